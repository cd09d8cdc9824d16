/**
 * What instance agents say about themselves: presence (phase, readiness, context
 * version), heartbeats and context reports. Only the JID its cloud agent reported for an
 * instance may speak for it; presence from a JID not (yet) known is held until the cloud's
 * report names it. An instance is ready when its agent says so for the context version it
 * was given, and lost when it stays offline, or its heartbeats stop, for heartbeat_timeout.
 */
import type { Agent, AgentEvent, Logger, MessageContext, PeerEvent } from '../../core/index.js';
import { instance as proto } from '../../protocols/index.js';
import type { GatewayModel, Instance } from './model/index.js';
import { advance, fail } from './tracker.js';
import { describeProblems, reportProblems } from './report-problems.js';
import type { ContextReportMsg, HeartbeatMsg, InstancePresenceData } from './wire.js';

interface Live {
  fullJid?: string;
  online: boolean;
  onlineSince?: number;
  ready?: boolean;
  /** When readiness last changed (or the agent came online): not-ready time counts from here. */
  readySince?: number;
  offlineSince?: number;
  heartbeatAt?: number;
  busy?: boolean;
  busyAt?: number;
  load?: number;
  phase?: string;
  /** The latest heartbeat's metrics (built-in and custom), for autoscaling. */
  report?: { at: number; values: Record<string, number>; busy: boolean };
}

/** Built-in and script-emitted values of a heartbeat as numbers (custom ones arrive as text). */
function metricValues(m: HeartbeatMsg): Record<string, number> {
  const values: Record<string, number> = {
    load1: m.load1,
    mem_used_pct: m.mem_used_pct,
    disk_used_pct: m.disk_used_pct,
  };
  for (const [k, v] of Object.entries(m.custom ?? {})) {
    const n = Number(v);
    if (v !== '' && Number.isFinite(n) && !Object.hasOwn(values, k)) values[k] = n;
  }
  return values;
}

export function createLiveness(deps: {
  agent: Agent;
  model: GatewayModel;
  log: Logger;
  heartbeatTimeoutMs: number;
  changed: (deploymentId: string) => void;
  lost: (i: Instance) => void;
  now?: () => number;
}) {
  const { agent, model, log, changed } = deps;
  const now = deps.now ?? Date.now;
  /**
   * Since when we can hear instances: our start, or our latest reconnection. While our own
   * session is down nobody can be heard, so nobody is lost for it (an ejabberd restart, a
   * network cut on our side); after it, each instance gets a full timeout to be heard again.
   */
  let hearingSince = now();
  agent.on('status', (e: AgentEvent) => {
    if (e.type === 'online') hearingSince = now();
  });
  const live = new Map<string, Live>();
  const held = new Map<string, PeerEvent>();
  const reportWatchers: Array<(instanceId: string, report: NonNullable<Live['report']>) => void> = [];

  const current = (bare: string): Instance | undefined => {
    const i = model.instances.byJid(bare);
    return i && i.state !== 'terminated' ? i : undefined;
  };
  const entry = (id: string): Live => {
    let l = live.get(id);
    if (!l) {
      l = { online: false };
      live.set(id, l);
    }
    return l;
  };

  function apply(i: Instance, e: PeerEvent): void {
    const l = entry(i.id);
    if (e.type === 'offline') {
      l.online = false;
      l.offlineSince = now();
      if (i.ready) model.instances.heartbeat(i.id, { ready: false, at: i.lastHeartbeat ?? now() });
      changed(i.deploymentId);
      return;
    }
    const data = e.peer.data as InstancePresenceData | undefined;
    if (!data || (data.deployment && data.deployment !== i.deploymentId)) return;
    const arrived = !l.online;
    if (arrived) l.onlineSince = now();
    Object.assign(l, {
      fullJid: e.peer.jid,
      online: true,
      phase: data.phase,
      ...(data.busy !== undefined ? { busy: data.busy, busyAt: now() } : {}),
    });
    delete l.offlineSince;
    if (i.state === 'terminating' || i.state === 'failed') return;
    if (data.phase === 'failed') {
      fail(model, i, 'its agent reports that contextualization failed');
      changed(i.deploymentId);
      return;
    }
    const cur = advance(model, i, 'running');
    const ready = data.ready && (!cur.context || data.context_version === cur.context.version);
    if (arrived || l.ready !== ready) {
      l.ready = ready;
      l.readySince = now();
    }
    model.instances.heartbeat(cur.id, { ready: ready && cur.state === 'running' });
    changed(i.deploymentId);
  }

  agent.registerPresence(proto.InstancePresence);
  agent.on('peer', (e: PeerEvent) => {
    if (e.peer.kind !== 'instance') return;
    const i = current(e.peer.bare);
    if (i) {
      apply(i, e);
      return;
    }
    if (e.type === 'offline') {
      held.delete(e.peer.bare);
      return;
    }
    // Bounded: anyone can send us presence; only JIDs a cloud names are ever looked up.
    if (held.size >= 10_000) held.delete(held.keys().next().value!);
    held.set(e.peer.bare, e);
  });

  agent.onMessage(proto.Heartbeat, (m: HeartbeatMsg, ctx: MessageContext) => {
    const i = current(ctx.bare);
    if (!i) return;
    const l = entry(i.id);
    Object.assign(l, { heartbeatAt: now(), busy: m.busy, busyAt: now(), load: m.load1, phase: m.phase });
    const report = { at: now(), values: metricValues(m), busy: m.busy };
    l.report = report;
    model.instances.heartbeat(i.id);
    for (const w of reportWatchers) w(i.id, report);
  });

  agent.onMessage(proto.ContextReport, (m: ContextReportMsg, ctx: MessageContext) => {
    const i = current(ctx.bare);
    if (!i) return;
    // The per-plugin problems travel on to the user: in the event, and in the instance's reason.
    const problems = m.ok ? [] : reportProblems(m.results);
    const why = problems.length ? `: ${describeProblems(problems)}` : '';
    model.events.append(i.deploymentId, {
      type: 'context',
      message: `${i.name}: context version ${m.version} ${m.ok ? 'applied' : `failed${why}`}`,
      data: { instance: i.id, version: m.version, ok: m.ok, ...(problems.length ? { problems } : {}) },
    });
    if (!m.ok && i.context?.version === m.version) fail(model, i, `context version ${m.version} failed${why}`);
    changed(i.deploymentId);
  });

  return {
    /** The cloud reported the JID of `i`: apply presence that was waiting for it, and announce ourselves. */
    known(i: Instance): void {
      if (!i.jid) return;
      const e = held.get(i.jid);
      if (e) {
        held.delete(i.jid);
        apply(i, e);
      }
      agent.announceTo(i.jid).catch((err) => log.debug({ err, jid: i.jid }, 'could not announce to instance'));
    },
    /** Stops sending directed presence to an instance that is gone. */
    forget(i: Instance): void {
      live.delete(i.id);
      if (i.jid) agent.presence.targets.delete(i.jid);
    },
    online: (id: string): boolean => live.get(id)?.online ?? false,
    fullJid: (id: string): string | undefined => (live.get(id)?.online ? live.get(id)?.fullJid : undefined),
    busy: (id: string): boolean => live.get(id)?.busy ?? false,
    /** The latest busy/idle report, if any arrived. */
    busyReport(id: string): { busy: boolean; at: number } | undefined {
      const l = live.get(id);
      return l?.busy !== undefined && l.busyAt !== undefined ? { busy: l.busy, at: l.busyAt } : undefined;
    },
    load: (id: string): number | undefined => live.get(id)?.load,
    /** The latest heartbeat's metrics, if one arrived (the decision judges their age). */
    report: (id: string) => live.get(id)?.report,
    /** Calls `fn` with each heartbeat's metrics as they arrive (the autoscaler keeps them where it reads them). */
    watchReports(fn: (instanceId: string, report: NonNullable<Live['report']>) => void): void {
      reportWatchers.push(fn);
    },
    phase: (id: string): string | undefined => live.get(id)?.phase,
    /** Since when an online agent has been in its current readiness (undefined when offline or unknown). */
    readySince: (id: string): number | undefined => (live.get(id)?.online ? live.get(id)?.readySince : undefined),
    /** Marks instances lost whose agent has been silent (or away) for too long. */
    sweep(): void {
      if (!agent.isOnline) return;
      const t = now();
      const limit = deps.heartbeatTimeoutMs;
      for (const i of model.instances.inStates(['running', 'draining'])) {
        const l = live.get(i.id);
        // Online: heartbeats must come (the first within the limit of its arrival);
        // offline: it may come back within the limit. Nobody is lost for our own restart.
        const base = Math.max(hearingSince, l?.heartbeatAt ?? 0);
        const lastSeen = l?.online
          ? Math.max(base, l.onlineSince ?? 0)
          : Math.max(base, l?.offlineSince ?? 0, i.lastHeartbeat ?? 0);
        if (t - lastSeen <= limit) continue;
        const secs = Math.round((t - lastSeen) / 1000);
        const why = l?.online ? `no heartbeat for ${secs} s` : `offline for ${secs} s`;
        log.warn({ instance: i.id, name: i.name, deployment: i.deploymentId }, `instance lost: ${why}`);
        model.events.append(i.deploymentId, {
          type: 'lost',
          message: `${i.name} lost: ${why}`,
          data: { instance: i.id },
        });
        const f = fail(model, i, `lost: ${why}`);
        deps.lost(f);
        changed(i.deploymentId);
      }
    },
  };
}

export type Liveness = ReturnType<typeof createLiveness>;
