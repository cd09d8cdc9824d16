/**
 * The SCRAM-SHA-1 mechanism of password logins: RFC 5802's own example exchange gives the
 * same client proof with the salted password from one PBKDF2 call, and an attempt given up
 * while it computed sends nothing (its answer would land on the next attempt's stream).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbandonedLoginError, Scram, saltedPassword } from '../../core/xmpp/scram.js';

// RFC 5802 section 5.
const CLIENT_NONCE = 'fyko+d2lbbFgONRv9qkxdawL';
const SERVER_FIRST = 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096';
const CLIENT_FINAL = 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=';

function mechanism() {
  // The library's constructor takes a nonce generator (its only option).
  const Made = Scram as unknown as new (o: { genNonce: () => string }) => Scram;
  return new Made({ genNonce: () => CLIENT_NONCE });
}

test('Hi is PBKDF2-HMAC-SHA-1 (RFC 6070 vector)', async () => {
  const out = await saltedPassword('password', new TextEncoder().encode('salt'), 4096);
  assert.equal(Buffer.from(out).toString('hex'), '4b007901b765489abead49d926f721d065a429c1');
});

test("RFC 5802's example exchange: the client-first and client-final messages", async () => {
  const m = mechanism();
  const cred = { username: 'user', password: 'pencil', abandoned: () => false };
  assert.equal(await m.response(cred), `n,,n=user,r=${CLIENT_NONCE}`);
  m.challenge(SERVER_FIRST);
  assert.equal(await m.response(cred), CLIENT_FINAL);
});

test('an attempt given up while its proof was computed sends no answer', async () => {
  const m = mechanism();
  let given = false;
  const cred = { username: 'user', password: 'pencil', abandoned: () => given };
  await m.response(cred);
  m.challenge(SERVER_FIRST);
  const answer = m.response(cred);
  given = true; // the stall timer fired while PBKDF2 ran
  await assert.rejects(answer, AbandonedLoginError);
});

test('a server asking for absurd iteration counts is refused before any work', async () => {
  for (const i of ['0', '-1', '100000000', 'x']) {
    const m = mechanism();
    const cred = { username: 'user', password: 'pencil', abandoned: () => false };
    await m.response(cred);
    m.challenge(`r=${CLIENT_NONCE}abc,s=QSXCR+Q6sek8bf92,i=${i}`);
    await assert.rejects(m.response(cred), /SCRAM iterations/);
  }
});
