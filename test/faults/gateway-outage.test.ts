/**
 * Found by the ejabberd-restart fault: while the gateway's own XMPP session was down (the
 * server restarting), it went on sweeping for silent instances, heard none, and declared
 * every one of them lost after heartbeat_timeout: a healthy fleet failed and replaced for
 * an outage on the gateway's side. Here the server stays down for twice the timeout; no
 * instance may be declared lost meanwhile. (Stand-in cloud and instances, real gateway.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../core/index.js';
import { gateway as gw } from '../../protocols/index.js';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { StandInCloud } from '../gateway/peers.js';
import { clusterIni, prepare, startGateway, status, until } from '../gateway/harness.js';

const TIMEOUT_MS = 2000;

test('while the gateway is cut off from the server, no instance is declared lost', { timeout: 90_000 }, async () => {
  const t = await startEjabberd();
  const dir = mkdtempSync(join(tmpdir(), 'cgt-outage-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = await makeAgent(t, 'alice');
  await alice.start();
  const cloud = new StandInCloud(t, 'cloud-a', { name: 'cloud-a', heartbeatMs: 300 });
  await cloud.start(`gateway@${t.host}`);
  const g = await startGateway(t, {
    dir,
    clouds: [cloud.jid],
    settings: { heartbeatTimeoutMs: TIMEOUT_MS, tickMs: 100 },
  });
  try {
    await until('the cloud online', () => g.agent.peers('cloud').length === 1);
    await prepare(alice, g.agent.jid, clusterIni({ initial: 2 }).replace(/^image = /gm, 'context = node\nimage = '));
    const id = (
      await alice.request(gw.Deploy, g.agent.jid, { cluster: 'batch', counts: undefined, passphrase: undefined })
    ).deployment.id;
    await until(
      'deployment completed',
      async () => (await status(alice, g.agent.jid, id)).state === 'completed',
      30_000,
      100,
    );
    // Heartbeats flow (the stand-ins beat every 300 ms): nobody is lost while all is well.
    await sleep(TIMEOUT_MS * 1.5);
    const lost = () =>
      g.model.events
        .list(id)
        .filter((e) => e.type === 'lost')
        .map((e) => e.message);
    assert.deepEqual(lost(), []);

    await t.server.stop();
    await until('the gateway to notice it is offline', () => !g.agent.isOnline, 10_000, 20);
    await sleep(TIMEOUT_MS * 2);
    assert.deepEqual(lost(), [], "nobody lost for the gateway's own outage");
    assert.deepEqual(
      g.model.instances.list(id).map((i) => i.state),
      ['running', 'running', 'running'],
    );
  } finally {
    await g.stop();
    await cloud.stop();
    await alice.stop();
  }
});
