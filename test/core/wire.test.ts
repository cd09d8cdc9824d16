/**
 * The runtime reads flow-control credits through protocols/flow.ts: a credit whose seq
 * does not decode is dropped, not echoed back to its sender, while a good one is answered.
 * Sent from a plain XMPP client (raw socket), so the malformed credit really is on the wire.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent, tokenFor } from '../helpers/agents.js';
import { rawLogin } from '../helpers/raw-xmpp.js';

test('a malformed flow-control credit is dropped; a good one is acknowledged', { timeout: 60_000 }, async () => {
  const t = await startEjabberd();
  const agent = await makeAgent(t, 'receiver');
  await agent.start();
  after(() => agent.stop());
  const raw = await rawLogin({
    host: t.server.info.ip, port: t.server.info.c2sPort, domain: t.host, ca: t.ca,
    user: 'sender', password: await tokenFor(t, 'sender'), resource: 'raw',
  });
  after(() => raw.close());
  const to = `receiver@${t.host}/agent`;
  for (const seq of ['0', 'x<y', '12345678901234567890', '7']) {
    raw.send(`<message type='normal' to='${to}'><credit xmlns='urn:cloudgate:flow:1' seq='${seq.replace('<', '&lt;')}'/></message>`);
  }
  // Stanzas between two sessions arrive in order: every answer to the bad ones came before this.
  const seen = await raw.expect('the answer to the good credit', /<credit-ack[^>]*seq=['"]7['"]/);
  const acks = [...seen.matchAll(/<credit-ack[^>]*seq=['"]([^'"]*)['"]/g)].map((m) => m[1]);
  assert.deepEqual(acks, ['7'], seen);
});
