/**
 * The cloud's PubSub node `clouds/<name>` carries every deployment's instance names, cloud
 * ids, addresses and failure reasons: only the requesters and admins may read or
 * subscribe, against a real ejabberd. A node left open (with a stranger subscribed) by an
 * older version is closed at start.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Element } from 'ltx';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import type { Agent } from '../../core/index.js';
import { StanzaError } from '../../protocols/index.js';
import type { CloudAgent } from '../../agents/cloud/index.js';
import { Gateway, startCloud, startServer, tempDir, writeConfig } from './helpers.js';

describe('cloud event node access', () => {
  let t: TestServer;
  let gw: Gateway;
  let ca: CloudAgent;
  let mallory: Agent;
  let ops: Agent;
  const tmp = tempDir('events');
  const node = 'clouds/cloud-a';

  before(async () => {
    t = await startServer();
    // What an older version left behind: the node open, and a stranger subscribed to it.
    const old = await makeAgent(t, 'cloud-a', { resource: 'old' });
    await old.start();
    await old.pubsub.ensureNode(node, { accessModel: 'open' });
    mallory = await makeAgent(t, 'mallory');
    await mallory.start();
    await mallory.pubsub.subscribe(node);
    await old.stop();

    const file = writeConfig(t, tmp.dir, {
      driver: 'local',
      acl: `users = ops@${t.host}`,
      driverOptions: { state_dir: join(tmp.dir, 'state') },
    });
    ({ ca } = await startCloud(file));
    gw = await Gateway.start(t);
    ops = await makeAgent(t, 'ops');
    await ops.start();
  });
  after(async () => {
    await mallory?.stop();
    await ops?.stop();
    await gw?.agent.stop();
    await ca?.stop();
    await t?.stop();
    tmp.remove();
  });

  it("refuses a stranger's subscription and items request", async () => {
    await assert.rejects(
      mallory.pubsub.subscribe(node),
      (e: unknown) => e instanceof StanzaError && /forbidden|not-authorized|not-allowed/.test(e.condition),
    );
    await assert.rejects(
      mallory.pubsub.items(node),
      (e: unknown) => e instanceof StanzaError && /forbidden|not-authorized|not-allowed/.test(e.condition),
    );
  });

  it('ended the subscription the stranger took while the node was open', async () => {
    const q = new Element('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub#owner' });
    q.c('subscriptions', { node });
    const res = await ca.agent.iq(ca.agent.pubsub.service, 'get', q);
    const subscribers = (res?.getChild('subscriptions')?.getChildren('subscription') ?? [])
      .filter((s) => s.attrs.subscription === 'subscribed')
      .map((s) => String(s.attrs.jid).split('/')[0]);
    assert.ok(!subscribers.includes(mallory.bare), `still subscribed: ${subscribers.join(', ')}`);
  });

  it('lets the requester subscribe and read, and an admin read', async () => {
    await gw.agent.pubsub.subscribe(node);
    assert.ok(Array.isArray(await gw.agent.pubsub.items(node)));
    assert.ok(Array.isArray(await ops.pubsub.items(node)));
  });
});
