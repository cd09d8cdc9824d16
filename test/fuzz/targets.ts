/**
 * What the hostile-input test attacks: a real gateway, a real cloud agent (local driver,
 * instances are a stand-in process) and a real instance agent, in this process, on one
 * real ejabberd; a victim (alice) with a context, a cluster and a live deployment; and
 * the senders that attack them, each with its own JID and its own standing:
 *
 *   mallory   a user the gateway serves, who is no one to the cloud or the instance
 *   stranger  a JID the gateway refuses ([users] deny)
 *   ghost     a JID of the instances' XMPP host that is no instance
 *   fuzzgw    a second requester of the cloud agent, not the victim's
 *   cloudb    the instance's cloud agent JID: trusted by it, but not allowed to command it
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, loadJwtKey, mintToken, type Logger } from '../../core/index.js';
import { createGateway, type Gateway } from '../../agents/gateway/index.js';
import { createCloudAgent, loadCloudConfig, type CloudAgent } from '../../agents/cloud/index.js';
import { startInstanceAgent, type InstanceAgent } from '../../agents/instance/index.js';
import { renderCloudgate } from '../../agents/instance/context/index.js';
import { gateway as gw } from '../../protocols/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent, silent, tokenFor } from '../helpers/agents.js';
import { guestCommand } from '../helpers/guest.js';
import { killProcessesOf, watchOver } from '../helpers/watchdog.js';
import { INSTANCE_DOMAIN, startServer, writeConfig } from '../cloud/helpers.js';
import { until } from '../helpers/wait.js';

export { INSTANCE_DOMAIN };

export interface Victim {
  deployment: string;
  context: string;
  cluster: string;
  instanceJid: string;
}

export interface Targets {
  t: TestServer;
  dir: string;
  gateway: Gateway;
  cloud: CloudAgent;
  instance: InstanceAgent;
  victim: Victim;
  alice: Agent;
  mallory: Agent;
  stranger: Agent;
  ghost: Agent;
  fuzzgw: Agent;
  cloudb: Agent;
  /** An agent logged in as `local`@the instances' host (minted with that host's key, as a cloud agent would). */
  instanceSender(local: string): Promise<Agent>;
  stop(): Promise<void>;
}

const VICTIM_CLUSTER = `[cluster]
name = victim

[service.head]
type = fixed
order = 1
flavor = small
image = cernvm-4
context = secret
`;

export async function startTargets(logs: { gateway: Logger; cloud: Logger; instance: Logger }): Promise<Targets> {
  const t = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'cgt-fuzz-'));
  watchOver(dir, { remove: true });
  const started: Array<{ stop(): Promise<void> }> = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    await t.stop();
    // Local instances outlive their cloud agent by design: the victim's stand-in goes here.
    killProcessesOf(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const host = t.host;
    const user = async (name: string, kind = 'test') => {
      const a = await makeAgent(t, name, { kind });
      await a.start();
      started.push(a);
      return a;
    };
    const instanceKey = await loadJwtKey(t.server.info.hostJwtKeyFiles[INSTANCE_DOMAIN]!);
    const instanceSender = async (local: string) => {
      const a = new Agent({
        kind: 'test',
        log: silent,
        xmpp: {
          service: t.service,
          domain: INSTANCE_DOMAIN,
          username: local,
          password: (await mintToken(instanceKey, `${local}@${INSTANCE_DOMAIN}`, 3600)).token,
          isToken: true,
          ca: t.ca,
          resource: 'fuzz',
          maxStartAttempts: 3,
        },
      });
      await a.start();
      started.push(a);
      return a;
    };

    // The cloud agent: the gateway and fuzzgw are its requesters; instances are stand-ins.
    const cloudFile = writeConfig(t, dir, {
      driver: 'local',
      acl: `users = alice@${host}`,
      admins: `alice@${host}`,
      poll: '500ms',
      requesters: `gateway@${host} fuzzgw@${host}`,
      driverOptions: {
        state_dir: join(dir, 'instances'),
        command: guestCommand(dir),
        kill_grace_ms: '300',
        max_instances: '20',
      },
    });
    const cloud = await createCloudAgent(loadCloudConfig(cloudFile), { log: logs.cloud });
    await cloud.start();
    started.push(cloud);

    const gateway = createGateway({
      xmpp: {
        service: t.service,
        domain: host,
        username: 'gateway',
        password: await tokenFor(t, 'gateway'),
        isToken: true,
        ca: t.ca,
        resource: 'gw',
        maxStartAttempts: 3,
      },
      db: join(dir, 'gateway.db'),
      log: logs.gateway,
      clouds: [`cloud-a@${host}`],
      policy: { admins: [], deny: [`stranger@${host}`] },
      // Nothing of the victim's may change on its own while the attack runs.
      settings: {
        tickMs: 200,
        readyTimeoutMs: 3_600_000,
        heartbeatTimeoutMs: 3_600_000,
        placementTimeoutMs: 30_000,
        terminateTimeoutMs: 3_600_000,
      },
      // Pairing on, so its requests (PairingCode, RenewToken) are attacked too.
      pairing: {
        mint: (jid: string) => mintToken(instanceKey, jid, 600),
        httpPort: 0,
        domain: INSTANCE_DOMAIN,
        server: `${t.server.info.ip}:${t.server.info.c2sPort}`,
        ca: t.ca,
      },
    });
    await gateway.start();
    started.push(gateway);

    // The instance agent under attack: it obeys the gateway and alice, reports to the gateway.
    const root = join(dir, 'vm');
    const ctxFile = join(dir, 'vm-context.ini');
    const minted = await mintToken(instanceKey, `vm-fuzz@${INSTANCE_DOMAIN}`, 3600);
    writeFileSync(
      ctxFile,
      `[amiconfig]\nplugins = environment\n\n[environment]\nROLE = target\n\n${renderCloudgate({
        jid: `vm-fuzz@${INSTANCE_DOMAIN}`,
        domain: INSTANCE_DOMAIN,
        server: { host: t.server.info.ip, port: t.server.info.c2sPort },
        token: minted.token,
        tokenExpires: minted.expires,
        ca: t.ca,
        allow: [`gateway@${host}`, `alice@${host}`],
        gateway: `gateway@${host}`,
        cloud: `cloudb@${host}`,
        contextVersion: 1,
        instanceId: 'vm-fuzz',
        deployment: 'standalone',
        service: 'target',
      })}`,
    );
    const instance = await startInstanceAgent({
      root,
      contextFile: ctxFile,
      env: {},
      metadataUrl: 'http://127.0.0.1:9/latest/user-data',
      metadataTimeoutMs: 200,
      configDrive: join(dir, 'no-config-drive'),
      stateDb: ':memory:',
      maxStartAttempts: 3,
      log: logs.instance,
      heartbeatIntervalS: 5,
    });
    started.push(instance);

    const [alice, mallory, stranger, fuzzgw, cloudb] = [
      await user('alice'),
      await user('mallory'),
      await user('stranger'),
      await user('fuzzgw', 'gateway'),
      await user('cloudb', 'cloud'),
    ];
    const ghost = await instanceSender('ghost');

    // The victim's things: a private context, a cluster, and a deployment whose one instance
    // exists at the cloud (a stand-in that never logs in, so nothing changes on its own).
    await until('the cloud agent online at the gateway', () => gateway.agent.peers('cloud').length > 0);
    const ctx = await alice.request(gw.PutContext, gateway.agent.jid, {
      name: 'secret',
      body: '[amiconfig]\nplugins = environment\n\n[environment]\nTOKEN_OF_ALICE = s3cr3t\n',
      visibility: 'private',
      passphrase: undefined,
    });
    await alice.request(gw.PutCluster, gateway.agent.jid, { definition: VICTIM_CLUSTER });
    const dep = (
      await alice.request(gw.Deploy, gateway.agent.jid, { cluster: 'victim', counts: undefined, passphrase: undefined })
    ).deployment;
    const inst = await until("the victim's instance to boot at the cloud", () => {
      const i = gateway.model.instances.list(dep.id)[0];
      return i?.state === 'booting' && i.jid && i.cloudInstanceId ? i : undefined;
    });
    await gateway.settle();
    return {
      t,
      dir,
      gateway,
      cloud,
      instance,
      alice,
      mallory,
      stranger,
      ghost,
      fuzzgw,
      cloudb,
      instanceSender,
      stop,
      victim: { deployment: dep.id, context: ctx.context.id, cluster: 'victim', instanceJid: inst.jid! },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export { until };
