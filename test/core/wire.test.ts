/**
 * The runtime reads flow-control credits and chat lines through protocols/: a credit
 * whose seq does not decode is dropped, not echoed back to its sender, while a good one
 * is answered; a chat line without a body (a chat state) gets no answer and one over the
 * protocol's length gets an answer saying so. Sent from a plain XMPP client (raw socket),
 * so the malformed stanzas really are on the wire.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent, tokenFor } from '../helpers/agents.js';
import { rawLogin } from '../helpers/raw-xmpp.js';

/** A server, an agent `name` on it, and a plain client `user` logged in over a raw socket; all stop after the test. */
async function agentAndRaw(name: string, user: string) {
  const t = await startEjabberd();
  const agent = await makeAgent(t, name);
  await agent.start();
  after(() => agent.stop());
  const raw = await rawLogin({
    host: t.server.info.ip,
    port: t.server.info.c2sPort,
    domain: t.host,
    ca: t.ca,
    user,
    password: await tokenFor(t, user),
    resource: 'raw',
  });
  after(() => raw.close());
  return { raw, to: `${name}@${t.host}/agent` };
}

test('a malformed flow-control credit is dropped; a good one is acknowledged', { timeout: 60_000 }, async () => {
  const { raw, to } = await agentAndRaw('receiver', 'sender');
  for (const seq of ['0', 'x<y', '12345678901234567890', '7']) {
    raw.send(
      `<message type='normal' to='${to}'><credit xmlns='urn:cloudgate:flow:1' seq='${seq.replace('<', '&lt;')}'/></message>`,
    );
  }
  // Stanzas between two sessions arrive in order: every answer to the bad ones came before this.
  const seen = await raw.expect('the answer to the good credit', /<credit-ack[^>]*seq=['"]7['"]/);
  const acks = [...seen.matchAll(/<credit-ack[^>]*seq=['"]([^'"]*)['"]/g)].map((m) => m[1]);
  assert.deepEqual(acks, ['7'], seen);
});

test('chat: no body, no answer; a body over the limit is answered with the reason', { timeout: 60_000 }, async () => {
  const { raw, to } = await agentAndRaw('talker', 'person');
  raw.send(`<message type='chat' to='${to}'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
  raw.send(`<message type='chat' to='${to}'><body>${'x'.repeat(70_000)}</body></message>`);
  raw.send(`<message type='chat' to='${to}'><body>help</body></message>`);
  const first = await raw.expect('the first chat answer', /<message[^>]*>[\s\S]*?<\/message>/);
  assert.match(
    first,
    /<body>Could not read that: invalid message\/body: longer than 65536 characters \(70000\)\.<\/body>/,
  );
  assert.match(first, /<reply xmlns=['"]urn:cloudgate:chat:1['"]\/>/);
  const second = await raw.expect('the answer to help', /<message[^>]*>[\s\S]*?<\/message>/);
  assert.match(second, /commands you may run/);
});
