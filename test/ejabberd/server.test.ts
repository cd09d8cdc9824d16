import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startEjabberd } from '../helpers/ejabberd.js';
import { listenLocal } from '../helpers/net.js';
import { Connection } from '../../core/connection.js';
import { loadJwtKey, mintToken } from '../../core/jwt.js';
import { createLogger } from '../../core/log.js';
import { EjabberdServer, EjabberdError, freePort, listenerOwnedBy, portInUse } from '../../ejabberd/index.js';

const log = createLogger({ level: 'silent' });

test('a project-local ejabberd accepts STARTTLS, JWT and component logins', async () => {
  const t = await startEjabberd({ components: [{ domain: 'svc.localhost', secret: 'comp-secret' }] });
  await t.register('alice', 'pw-alice');

  const alice = new Connection({
    kind: 'client',
    service: t.service,
    domain: t.host,
    username: 'alice',
    password: 'pw-alice',
    ca: t.ca,
    log,
    maxStartAttempts: 1,
  });
  await alice.start();
  assert.match(alice.jid, /^alice@localhost\//);
  assert.equal((alice as any).entity.isSecure(), true, 'stream is TLS-protected');

  const key = await loadJwtKey(t.server.info.jwtKeyFile);
  const { token } = await mintToken(key, `agent7@${t.host}`, 60);
  const agent = new Connection({
    kind: 'client',
    service: t.service,
    domain: t.host,
    username: 'agent7',
    password: token,
    isToken: true,
    ca: t.ca,
    log,
    maxStartAttempts: 1,
  });
  await agent.start();
  assert.match(agent.jid, /^agent7@localhost\//);

  // A token for another JID does not log in as agent8.
  const wrong = new Connection({
    kind: 'client',
    service: t.service,
    domain: t.host,
    username: 'agent8',
    password: token,
    isToken: true,
    ca: t.ca,
    log,
    maxStartAttempts: 1,
  });
  await assert.rejects(wrong.start(), (e: any) => e.permanent === true && /not-authorized/.test(e.message));

  const comp = new Connection({
    kind: 'component',
    service: `xmpp://127.0.0.1:${t.server.info.componentPort}`,
    domain: 'svc.localhost',
    password: 'comp-secret',
    log,
    maxStartAttempts: 1,
  });
  await comp.start();

  // A message from the JWT agent reaches the component and the password user.
  const got = new Promise<string>((resolve) =>
    comp.on('stanza', (el: any) => {
      if (el.is('message')) resolve(el.getChildText('body'));
    }),
  );
  const { xml } = await import('@xmpp/client-core');
  await agent.send(xml('message', { to: 'svc.localhost', type: 'normal' }, xml('body', {}, 'hello component')));
  assert.equal(await got, 'hello component');

  await Promise.all([alice.stop(), agent.stop(), comp.stop()]);
});

test('a port in use is reported with the port, and nothing is left running', async () => {
  const blocker = createServer();
  const port = await listenLocal(blocker);
  after(() => blocker.close());
  const s = await EjabberdServer.prepare({ dir: mkdtempSync(join(tmpdir(), 'cgt-ejabberd-')), c2sPort: port });
  after(() => s.remove());
  await assert.rejects(
    s.start(),
    (e: any) => e instanceof EjabberdError && e.message.includes(`127.0.0.1:${port} is already in use`),
  );
  assert.equal((await s.status()).running, false);
});

test('a port taken after the check (by an outgoing connection or another server): start fails naming it, never returns on a foreign listener', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-ejabberd-'));
  const s = await EjabberdServer.prepare({ dir });
  after(() => s.remove());
  const starting = s.start();
  starting.catch(() => {});
  // The checks are done once the server process exists; take its port before it binds.
  while (!existsSync(join(dir, 'ejabberd.pid'))) await new Promise((r) => setTimeout(r, 1));
  const thief = createServer();
  await new Promise<void>((r) => thief.listen(s.info.componentPort, '127.0.0.1', r));
  after(() => thief.close());
  assert.equal(listenerOwnedBy(process.pid, s.info.componentPort), true);
  await assert.rejects(
    starting,
    (e: any) => e instanceof EjabberdError && /ports was taken .*eaddrinuse/.test(e.message),
  );
  assert.equal((await s.status()).running, false);
});

test('free ports come from below the range of outgoing connections', async () => {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  for (let i = 0; i < 5; i++) {
    const p = await freePort();
    if (low > 11_000) assert.ok(p >= 10_000 && p < low, `${p} below ${low}`);
    assert.equal(await portInUse(p), false);
  }
});

test('a bad configuration is reported with ejabberd log lines, and nothing is left running', async () => {
  const s = await EjabberdServer.prepare({
    dir: mkdtempSync(join(tmpdir(), 'cgt-ejabberd-')),
    logLevel: 'bogus' as any,
  });
  after(() => s.remove());
  await assert.rejects(
    s.start(),
    (e: any) => e instanceof EjabberdError && /exited during start-up/.test(e.message) && /loglevel/.test(e.message),
  );
  assert.equal((await s.status()).running, false);
});
