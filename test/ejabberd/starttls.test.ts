/**
 * No password crosses the wire in clear: the server requires STARTTLS before SASL, and
 * a raw socket that tries AUTH PLAIN first is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startEjabberd } from '../helpers/ejabberd.js';
import { until } from '../helpers/wait.js';

const OPEN =
  "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

test('the server requires STARTTLS and refuses AUTH PLAIN on an unencrypted stream', { timeout: 60_000 }, async () => {
  const t = await startEjabberd();
  await t.register('plainuser', 'pw-plainuser');
  const sock = connect(t.server.info.c2sPort, t.server.info.ip);
  let input = '';
  let closed = false;
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    input += d;
  });
  sock.on('error', () => {});
  sock.on('close', () => {
    closed = true;
  });
  try {
    sock.write(OPEN);
    await until('stream features', () => input.includes('</stream:features>'));
    const features = input.slice(input.indexOf('<stream:features'));
    assert.match(
      features,
      /<starttls xmlns=.urn:ietf:params:xml:ns:xmpp-tls.><required\/><\/starttls>/,
      'STARTTLS is offered as required',
    );
    const seen = input.length;
    sock.write(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0plainuser\0pw-plainuser').toString('base64')}</auth>`,
    );
    const answer = await until(
      'an answer to AUTH',
      () =>
        (/<failure|<success|<stream:error|<\/stream:stream>/.test(input.slice(seen)) || closed) &&
        (input.slice(seen) || 'closed'),
    );
    assert.doesNotMatch(answer, /<success/, 'the cleartext password was not accepted');
    assert.match(answer, /encryption-required|policy-violation|closed|<\/stream:stream>/, `refused: ${answer}`);
  } finally {
    sock.destroy();
  }
});
