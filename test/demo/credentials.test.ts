/**
 * The demo's server and files as `npm start` makes them: no file it writes holds the
 * operator's key, and the cloud agent's credentials log in as nobody but itself and its
 * instances (real ejabberd).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, DEMO_HOST } from '../../agents/demo/server.js';
import { createAccounts } from '../../agents/demo/accounts.js';
import { writeConfigs, CLOUD_JID, DEMO_USER, GATEWAY_JID } from '../../agents/demo/configs.js';
import { assertCloudAgentScoped, assertNoOperatorKey, login, readIni } from '../helpers/credentials.js';

test("the demo's files hold no operator key; its cloud agent can pose as no user, admin or gateway", {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-demo-creds-'));
  chmodSync(dir, 0o711); // ejabberd runs as its own user and must reach its directory
  after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer({
    dir: join(dir, 'ejabberd'),
    c2sPort: 0,
    componentPort: 0,
    say: () => {},
    agents: [GATEWAY_JID, CLOUD_JID],
  });
  after(() => server.stop());
  const info = server.info;
  const files = writeConfigs(dir, info, await createAccounts(server));

  const written = readdirSync(dir)
    .map((f) => join(dir, f))
    .filter((f) => f.endsWith('.ini'));
  assert.deepEqual(written.sort(), [files.client, files.cloud, files.gateway].sort());
  assertNoOperatorKey(info, written);

  // Each agent and the demo user log in with the password in their own file.
  for (const f of written) {
    const x = readIni(f).xmpp!;
    await login(info, x.jid!, x.password!, false);
  }
  const gatewayAdmins = readIni(files.gateway).gateway!.admins;
  assert.equal(gatewayAdmins, DEMO_USER);
  await assertCloudAgentScoped(info, files.cloud, [GATEWAY_JID, DEMO_USER, `admin@${DEMO_HOST}`, `alice@${DEMO_HOST}`]);
  assert.ok(existsSync(info.jwtKeyFile));
});
