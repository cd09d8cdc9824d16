/**
 * Hostile input, PubSub: squatting a node an agent will create. A person cannot create
 * one at all; a node another account already holds (created before the restriction, or
 * by another agent) makes the agent that finds it say so: an error log naming the node
 * and its owner, and the refusal, never a silent success.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { capturingLogger } from '../helpers/log.js';

test('a squatted PubSub node: a person cannot create it, and an agent finding another owner logs node and owner', {
  timeout: 120_000,
}, async () => {
  const t = await startEjabberd({ agents: ['cloud-a@localhost', 'cloud-b@localhost'] });
  await t.register('mallory', 'pw-mallory');
  const { log, lines } = capturingLogger();
  const a = await makeAgent(t, 'cloud-a', { log });
  const b = await makeAgent(t, 'cloud-b');
  const mallory = await makeAgent(t, 'mallory', { xmpp: { password: 'pw-mallory', isToken: false } as any });
  await Promise.all([a.start(), b.start(), mallory.start()]);
  try {
    await assert.rejects(mallory.pubsub.ensureNode('clouds/cloud-a'), (e: any) => e.condition === 'forbidden');

    await b.pubsub.ensureNode('clouds/cloud-a');
    await assert.rejects(a.pubsub.ensureNode('clouds/cloud-a'), (e: any) => e.condition === 'forbidden');
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50 && l.node === 'clouds/cloud-a');
    assert.equal(errors.length, 1, lines.join(''));
    assert.equal(errors[0].owner, 'cloud-b@localhost');
    assert.match(errors[0].msg, /clouds\/cloud-a is owned by cloud-b@localhost/);

    // Its own node is no squat: re-ensuring it logs nothing.
    await a.pubsub.ensureNode('clouds/own-a');
    await a.pubsub.ensureNode('clouds/own-a');
    assert.equal(lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50).length, 1);
  } finally {
    await Promise.all([a.stop(), b.stop(), mallory.stop()]);
  }
});
