/**
 * Stand-in peers for gateway engine tests: a cloud agent and instance agents built with
 * makeAgent that speak protocols/cloud.ts and protocols/instance.ts as the real ones do,
 * with knobs for what a test needs (quota, ACL, failures, silence) and a record of what
 * they were asked. Each instance is its own XMPP session, as a real one would be.
 */
import type { Agent } from '../../core/index.js';
import { cloud, instance } from '../../protocols/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';

type AllocateMsg = ReturnType<typeof cloud.Allocate.payload.decode>;
type State = (typeof cloud.INSTANCE_STATES)[number];

export interface FakeInstance {
  name: string;
  deployment: string;
  service: string;
  owner: string;
  state: State;
  id: string;
  jid: string;
  contextVersion: number;
  context: string;
  agent?: StandInInstance;
}

export interface CloudOptions {
  name: string;
  /** Instances this cloud may host at once. */
  quota?: number;
  /** Owners allowed (default all). */
  acl?: string[];
  /** Fail (state error) the n-th instance created (1-based), or each of a list of them. */
  failNth?: number | readonly number[];
  /** Instance agents report ready with this context version instead of the given one. */
  wrongVersion?: boolean;
  heartbeatMs?: number;
  /** Refuse this many ListInstances requests first (a cloud agent busy after a restart). */
  failLists?: number;
}

export class StandInInstance {
  agent!: Agent;
  private timer?: NodeJS.Timeout;
  busy = false;
  drained = 0;
  constructor(
    readonly t: TestServer,
    readonly inst: FakeInstance,
    readonly gateway: string,
    readonly heartbeatMs: number,
    readonly version: number,
  ) {}

  async start(): Promise<void> {
    this.agent = await makeAgent(this.t, this.inst.name.toLowerCase(), { kind: 'instance', resource: 'vm' });
    this.agent.registerPresence(instance.InstancePresence);
    this.agent.handle(instance.Drain, () => {
      this.drained++;
      return { idle: !this.busy };
    });
    await this.agent.start();
    await this.agent.setPresence(instance.InstancePresence, this.presence());
    await this.agent.announceTo(this.gateway);
    let seq = 0;
    const beat = () => {
      const gw = this.agent.presence.get(this.gateway);
      if (gw) {
        this.agent
          .send(instance.Heartbeat, gw.jid, {
            instance_id: this.inst.name,
            deployment: this.inst.deployment,
            service: this.inst.service,
            seq: seq++,
            phase: 'ready',
            context_version: this.version,
            load1: 0.1,
            mem_used_pct: 10,
            disk_used_pct: 10,
            busy: this.busy,
            custom: undefined,
            at: new Date().toISOString(),
          })
          .catch(() => {});
      }
      this.timer = setTimeout(beat, this.heartbeatMs);
      this.timer.unref();
    };
    beat();
  }

  presence() {
    return {
      instance_id: this.inst.name,
      deployment: this.inst.deployment,
      service: this.inst.service,
      context_version: this.version,
      phase: 'ready' as const,
      ready: true,
      busy: this.busy,
    };
  }

  /** Stops heartbeats but keeps the session (a hung machine). */
  silence(): void {
    clearTimeout(this.timer);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.agent?.stop();
  }
}

export class StandInCloud {
  /** ListInstances requests refused so far (failLists). */
  listsRefused = 0;
  agent!: Agent;
  readonly instances = new Map<string, FakeInstance>();
  readonly allocations: AllocateMsg[] = [];
  readonly terminations: Array<{ deployment: string; names: string[] }> = [];
  private created = 0;
  private gateway = '';

  constructor(
    readonly t: TestServer,
    readonly user: string,
    readonly o: CloudOptions,
  ) {}

  get jid(): string {
    return `${this.user}@${this.t.host}`;
  }
  live(): FakeInstance[] {
    return [...this.instances.values()].filter((i) => i.state === 'pending' || i.state === 'running');
  }

  private presence() {
    const used = this.live().length;
    return {
      name: this.o.name,
      driver: 'stand-in',
      instances: used,
      free_instances: Math.max(0, (this.o.quota ?? 1000) - used),
      free_cores: undefined,
      free_memory_mb: undefined,
      flavors: ['small', 'medium', 'large'],
      images: ['test-image'],
    };
  }

  private allowed(owner: string): boolean {
    return !this.o.acl || this.o.acl.includes(owner);
  }

  private async report(i: FakeInstance, reason?: string): Promise<void> {
    await this.agent.sendReliable(cloud.InstanceState, this.gateway, {
      deployment: i.deployment,
      service: i.service,
      name: i.name,
      id: i.id,
      jid: i.jid,
      state: i.state,
      provider_state: undefined,
      reason,
      addresses: undefined,
      at: new Date().toISOString(),
    });
  }

  async start(gateway: string): Promise<void> {
    this.gateway = gateway;
    this.agent = await makeAgent(this.t, this.user, { kind: 'cloud' });
    this.agent.handle(cloud.Discover, (q) => {
      if (!this.allowed(q.owner))
        return { accept: false, max: 0, reason: `${q.owner} is not in the ACL of ${this.o.name}` };
      const max = Math.min(q.count, Math.max(0, (this.o.quota ?? 1000) - this.live().length));
      return { accept: max >= q.count, max, reason: max >= q.count ? undefined : `quota: room for ${max}` };
    });
    this.agent.handle(cloud.ListInstances, (q) => {
      if ((this.o.failLists ?? 0) > this.listsRefused) {
        this.listsRefused++;
        throw new Error('busy');
      }
      return {
        instances: [...this.instances.values()]
          .filter((i) => !q.deployment || i.deployment === q.deployment)
          .map((i) => ({
            deployment: i.deployment,
            service: i.service,
            name: i.name,
            id: i.id,
            jid: i.jid,
            state: i.state,
            provider_state: undefined,
            reason: undefined,
            addresses: undefined,
            at: new Date().toISOString(),
          })),
      };
    });
    this.agent.onMessage(cloud.Allocate, (m) => {
      void this.allocate(m);
    });
    this.agent.onMessage(cloud.Terminate, (m) => {
      void this.terminate(m.deployment, m.names);
    });
    await this.agent.start();
    await this.agent.setPresence(cloud.CloudPresence, this.presence());
    await this.agent.announceTo(gateway);
  }

  private async allocate(m: AllocateMsg): Promise<void> {
    this.allocations.push(m);
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const name of m.names) {
      const known = this.instances.get(name);
      if (known) {
        if (known.state !== 'terminated') accepted.push(name);
        else refused.push(name);
        continue;
      }
      if (!this.allowed(m.owner) || this.live().length >= (this.o.quota ?? 1000)) {
        refused.push(name);
        continue;
      }
      accepted.push(name);
      this.instances.set(name, {
        name,
        deployment: m.deployment,
        service: m.service,
        owner: m.owner,
        state: 'pending',
        id: `vm-${++this.created}`,
        jid: `${name.toLowerCase()}@${this.t.host}`,
        contextVersion: m.context_version,
        context: m.context,
      });
    }
    await this.agent.sendReliable(cloud.AllocateResult, this.gateway, {
      request_id: m.request_id,
      deployment: m.deployment,
      service: m.service,
      accepted,
      refused,
      condition: refused.length ? (this.allowed(m.owner) ? 'quota-exceeded' : 'not-in-acl') : undefined,
      reason: refused.length ? `${this.o.name} refused ${refused.length}` : undefined,
    });
    await this.agent.setPresence(cloud.CloudPresence, this.presence());
    for (const name of accepted) {
      const i = this.instances.get(name)!;
      if (i.agent) continue;
      await this.report(i);
      this.createdCount++;
      if ([this.o.failNth ?? []].flat().includes(this.createdCount)) {
        i.state = 'error';
        await this.report(i, 'simulated failure');
        continue;
      }
      i.state = 'running';
      await this.report(i);
      const version = this.o.wrongVersion ? i.contextVersion + 7 : i.contextVersion;
      i.agent = new StandInInstance(this.t, i, this.gateway, this.o.heartbeatMs ?? 300, version);
      await i.agent.start();
    }
  }

  private createdCount = 0;

  async terminate(deployment: string, names: string[]): Promise<void> {
    this.terminations.push({ deployment, names });
    for (const i of this.instances.values()) {
      if (i.deployment !== deployment || (names.length && !names.includes(i.name)) || i.state === 'terminated')
        continue;
      i.state = 'terminated';
      await i.agent?.stop();
      await this.report(i);
    }
    await this.agent.setPresence(cloud.CloudPresence, this.presence());
  }

  async stop(): Promise<void> {
    for (const i of this.instances.values()) await i.agent?.stop().catch(() => {});
    await this.agent?.stop();
  }
}
