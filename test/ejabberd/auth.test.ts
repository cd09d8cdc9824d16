/**
 * Who can log in where, on a server prepared as the project prepares it for agents: the
 * main host takes passwords only, and a host with its own JWT key takes that key alone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { Connection } from '../../core/connection.js';
import { loadJwtKey, mintToken } from '../../core/jwt.js';
import { createLogger } from '../../core/log.js';
import { renderConfig, EjabberdError } from '../../ejabberd/index.js';

const log = createLogger({ level: 'silent' });
const VMS = 'vms.localhost';
const PLAIN = 'plain.localhost';
let t: TestServer;

before(async () => {
  t = await startEjabberd(
    { operatorJwt: false, extraHosts: [{ name: VMS, ownJwtKey: true }, { name: PLAIN }] },
    { cleanup: false },
  );
});
after(() => t?.stop());

function login(jid: string, secret: string, isToken: boolean): Promise<void> {
  const [username, domain] = jid.split('@') as [string, string];
  const c = new Connection({
    kind: 'client',
    service: t.service,
    domain,
    username,
    password: secret,
    isToken,
    ca: t.ca,
    log,
    maxStartAttempts: 1,
  });
  return c.start().then(() => c.stop());
}

async function token(keyFile: string, jid: string): Promise<string> {
  return (await mintToken(await loadJwtKey(keyFile), jid, 60)).token;
}

const refused = (e: any) => e.permanent === true && /not-authorized/.test(e.message);

test('the operator key mints no login on the main host, nor on a host without its own key', async () => {
  await t.server.account('admin', t.host, 'admin-pw');
  for (const jid of [`gateway@${t.host}`, `admin@${t.host}`, `nobody@${t.host}`, `x@${PLAIN}`]) {
    await assert.rejects(login(jid, await token(t.server.info.jwtKeyFile, jid), true), refused, jid);
  }
});

test("a host's own key mints its own JIDs only", async () => {
  const vmsKey = t.server.info.hostJwtKeyFiles[VMS]!;
  await login(`vm1@${VMS}`, await token(vmsKey, `vm1@${VMS}`), true);
  for (const jid of [`gateway@${t.host}`, `admin@${t.host}`, `x@${PLAIN}`]) {
    await assert.rejects(login(jid, await token(vmsKey, jid), true), refused, jid);
  }
  await assert.rejects(login(`vm1@${VMS}`, await token(t.server.info.jwtKeyFile, `vm1@${VMS}`), true), refused);
});

test('accounts: registered with a password, given a new one, never registered twice', async () => {
  await t.server.account('cloud-a', t.host, 'first-pw');
  await login(`cloud-a@${t.host}`, 'first-pw', false);
  await t.server.account('cloud-a', t.host, 'second-pw');
  await login(`cloud-a@${t.host}`, 'second-pw', false);
  await assert.rejects(login(`cloud-a@${t.host}`, 'first-pw', false), refused);
  await assert.rejects(
    t.server.register('cloud-a', t.host, 'third-pw'),
    (e: any) => e instanceof EjabberdError && /cloud-a@localhost: already registered/.test(e.message),
  );
  await assert.rejects(
    t.server.account('bad user', t.host, 'pw'),
    (e: any) => e instanceof EjabberdError && /bad user@localhost/.test(e.message),
  );
  await assert.rejects(
    t.server.account('empty', t.host, ''),
    (e: any) => e instanceof EjabberdError && /password is empty/.test(e.message),
  );
});

test('a host cannot both have its own key and take passwords only', () => {
  assert.throws(
    () =>
      renderConfig({
        hosts: [{ name: 'a', jwtKeyFile: '/k.jwk', passwordOnly: true }],
        ip: '127.0.0.1',
        c2sPort: 1,
        componentPort: 2,
        certFile: '/c.pem',
        jwtKeyFile: '/j.jwk',
        components: [],
        admins: [],
      }),
    /cannot have a JWT key and take passwords only/,
  );
});
