/**
 * Every login verifies the server's certificate against the CA the agent was given. The
 * TLS context is built once per CA and shared by every session of the process (a login
 * storm paid for building it each time), so this checks that the sharing is by CA: an
 * agent given another CA is refused in the same process where agents with the right one
 * log in before and after it. The project-local certificate is ECDSA P-256, whose
 * handshake costs the server far less than RSA.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificate } from '../../ejabberd/index.js';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';

/** A self-signed certificate for the same host names, made the way the project makes its own, from a key the server does not hold. */
async function foreignCa(host: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-foreign-ca-'));
  try {
    await makeCertificate(dir, [host]);
    return readFileSync(join(dir, 'server.crt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a login is verified against its own CA, also when sessions share TLS contexts', { timeout: 90_000 }, async () => {
  const t = await startEjabberd();
  const key = new X509Certificate(t.ca).publicKey;
  assert.equal(key.asymmetricKeyType, 'ec');
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  const first = await makeAgent(t, 'tls-first');
  await first.start();
  after(() => first.stop());

  const stranger = await makeAgent(t, 'tls-stranger', {
    xmpp: { ca: await foreignCa(t.host), maxStartAttempts: 1 } as any,
  });
  await assert.rejects(stranger.start(), (err: Error) => {
    assert.match(String(err?.message ?? err), /certificate|self.signed|verify/i);
    return true;
  });
  await stranger.stop().catch(() => undefined);

  const second = await makeAgent(t, 'tls-second');
  await second.start();
  after(() => second.stop());
  assert.ok(first.bare && second.bare);
});
