/**
 * Who may do what on the server: only the agents create PubSub nodes (nobody squats
 * clouds/<name> or deployments/<id> before its agent), and people's accounts are shaped
 * and keep a short offline queue while agents keep theirs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client-core';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { until } from '../helpers/wait.js';
import { renderConfig, PEOPLE_LIMITS, EjabberdError } from '../../ejabberd/index.js';
import { defineEvent, object, str } from '../../protocols/index.js';

const Note = defineEvent('urn:cloudgate:test-access:1', 'note', object({ text: str() }));

const base = {
  ip: '127.0.0.1',
  c2sPort: 1,
  componentPort: 2,
  certFile: '/c.pem',
  jwtKeyFile: '/k.jwk',
  components: [],
  admins: [],
};

test('the rendered configuration: agents create nodes and are unshaped, people are shaped with a short offline queue', () => {
  const yml = renderConfig({
    ...base,
    hosts: [{ name: 'localhost' }, { name: 'vms.localhost', jwtKeyFile: '/v.jwk' }],
    agents: ['gateway@localhost', 'cloud-a@localhost'],
  });
  assert.match(yml, /starttls_required: true/);
  assert.match(
    yml,
    /node_creators:\n {4}user:\n {6}- "gateway@localhost"\n {6}- "cloud-a@localhost"\n {4}server: \[\]/,
  );
  // Instances (a host of their own) are agents for the limits, but create no nodes.
  assert.match(
    yml,
    / {2}agents:\n {4}user:\n {6}- "gateway@localhost"\n {6}- "cloud-a@localhost"\n {4}server:\n {6}- "vms.localhost"/,
  );
  assert.match(yml, /pubsub_createnode:\n {4}- allow: node_creators\n {4}- allow: admin\n/);
  assert.match(
    yml,
    new RegExp(`max_user_offline_messages:\\n    - 100000: agents\\n    - ${PEOPLE_LIMITS.maxOffline}: all`),
  );
  assert.match(yml, /c2s_shaper:\n {4}- none: agents\n {4}- people: all/);
  assert.match(yml, new RegExp(`people:\\n    rate: ${PEOPLE_LIMITS.rate}\\n    burst_size: ${PEOPLE_LIMITS.burst}`));
  assert.ok(
    PEOPLE_LIMITS.maxOffline < 100000 && PEOPLE_LIMITS.burst >= 1048576,
    'a burst lets one maximal stanza through',
  );
});

test('an agent entry that is not a JID or host of this server is refused, naming it', () => {
  assert.throws(
    () => renderConfig({ ...base, hosts: [{ name: 'localhost' }], agents: ['gw@elsewhere'] }),
    (e: any) => e instanceof EjabberdError && /'gw@elsewhere' names host 'elsewhere'/.test(e.message),
  );
  assert.throws(
    () => renderConfig({ ...base, hosts: [{ name: 'localhost' }], agents: ['a b@localhost'] }),
    (e: any) => e instanceof EjabberdError && /'a b@localhost' is neither a bare JID/.test(e.message),
  );
});

test("only the agents create PubSub nodes: a person's create (or auto-create by publishing) is refused", {
  timeout: 120_000,
}, async () => {
  const t = await startEjabberd({ agents: ['gateway@localhost'] });
  await t.register('mallory', 'pw-mallory');
  const gw = await makeAgent(t, 'gateway');
  const mallory = await makeAgent(t, 'mallory', { xmpp: { password: 'pw-mallory', isToken: false } as any });
  await Promise.all([gw.start(), mallory.start()]);
  try {
    for (const node of ['clouds/cloud-a', 'deployments/d-1']) {
      await assert.rejects(
        mallory.pubsub.ensureNode(node),
        (e: any) => e.condition === 'forbidden',
        `${node}: refused`,
      );
    }
    await assert.rejects(
      mallory.pubsub.publish(Note, 'deployments/d-2', { text: 'squat' }),
      (e: any) => e.condition === 'forbidden' || e.condition === 'item-not-found',
    );
    // The agent then creates them as usual.
    for (const node of ['clouds/cloud-a', 'deployments/d-1', 'deployments/d-2']) await gw.pubsub.ensureNode(node);
  } finally {
    await Promise.all([gw.stop(), mallory.stop()]);
  }
});

test("a person's account keeps at most the people's offline queue; an agent's keeps more", {
  timeout: 180_000,
}, async () => {
  const t = await startEjabberd({ agents: ['gateway@localhost', 'cloud-a@localhost'] });
  await t.register('bob', 'pw-bob');
  await t.register('cloud-a', 'pw-cloud-a');
  const gw = await makeAgent(t, 'gateway');
  await gw.start();
  try {
    const n = PEOPLE_LIMITS.maxOffline + 20;
    for (const to of ['bob@localhost', 'cloud-a@localhost']) {
      for (let i = 0; i < n; i++)
        await gw.conn.send(xml('message', { to, type: 'chat', id: `m${i}` }, xml('body', {}, `hello ${i}`)));
    }
    const count = async (user: string) => Number(await t.server.ctl('get_offline_count', user, 'localhost'));
    await until(
      "the agent's offline queue to hold every message",
      async () => (await count('cloud-a')) === n,
      60_000,
      250,
    );
    assert.equal(await count('bob'), PEOPLE_LIMITS.maxOffline);
  } finally {
    await gw.stop();
  }
});
