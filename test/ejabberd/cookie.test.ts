/**
 * The Erlang cookie opens the server's distribution port to whoever knows it (code runs
 * as the server's user, which reads every key): it must appear in no process's command
 * line or environment, which any local user reads from /proc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { EjabberdServer, EjabberdError } from '../../ejabberd/index.js';
import { Connection } from '../../core/connection.js';
import { createLogger } from '../../core/log.js';

const execFileP = promisify(execFile);

function readProc(pid: string, what: 'cmdline' | 'environ'): string {
  try {
    return readFileSync(`/proc/${pid}/${what}`, 'latin1');
  } catch {
    return '';
  }
}

/** Every process on the machine whose command line or environment holds one of `secrets`, and those naming `mark`. */
function scan(secrets: string[], mark: string): { leaks: string[]; marked: number } {
  const leaks: string[] = [];
  let marked = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const cmd = readProc(pid, 'cmdline');
    if (cmd.includes(mark)) marked++;
    for (const what of ['cmdline', 'environ'] as const) {
      const text = what === 'cmdline' ? cmd : readProc(pid, what);
      if (secrets.some((x) => text.includes(x)))
        leaks.push(`${pid} ${what}: ${cmd.replaceAll('\0', ' ').slice(0, 200)}`);
    }
  }
  return { leaks, marked };
}

/** Pings the server's node from a fresh hidden node holding `cookie`: 'pong' or 'pang'. */
async function ping(t: TestServer, cookie: string): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'cgt-cookie-'));
  writeFileSync(join(home, '.erlang.cookie'), cookie, { mode: 0o400 });
  const { info } = t.server;
  const run = execFileP(
    '/usr/bin/erl',
    [
      '-sname',
      `probe${process.pid}@localhost`,
      '-hidden',
      '-noinput',
      '-erl_epmd_port',
      String(info.distPort),
      '-start_epmd',
      'false',
      '-dist_listen',
      'false',
      '-eval',
      `io:format("~p~n", [net_adm:ping('${info.node}')]), halt().`,
    ],
    { env: { PATH: process.env.PATH, HOME: home, ERL_INETRC: join(info.dir, 'conf', 'inetrc') }, timeout: 60_000 },
  );
  try {
    return (await run).stdout.trim();
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test("the Erlang cookie and registered passwords are in no process's arguments or environment; the cookie is in a file the server's user alone reads", {
  timeout: 120_000,
}, async () => {
  const t = await startEjabberd();
  const file = join(t.server.dir, '.erlang.cookie');
  const cookie = readFileSync(file, 'utf8').trim();
  assert.ok(cookie.length >= 20, 'a cookie was written');
  const st = statSync(file);
  assert.equal(st.mode & 0o777, 0o400);
  assert.equal(st.uid, statSync(join(t.server.dir, 'spool')).uid, "owned by the server's user");
  assert.ok(!readFileSync(join(t.server.dir, 'server.json'), 'utf8').includes(cookie), 'server.json does not hold it');

  // The server itself, and each ejabberdctl call while it runs (it names the server's node),
  // which must not show the password it registers either.
  const password = `pw-${randomBytes(9).toString('hex')}`;
  let done = false;
  const ctl = t.register('cookie-user', password).finally(() => {
    done = true;
  });
  let sawCtl = 0;
  const leaks = new Set<string>();
  do {
    const s = scan([cookie, password], `-extra\0${t.server.info.node}`);
    sawCtl += s.marked;
    for (const l of s.leaks) leaks.add(l);
    await new Promise((r) => setImmediate(r));
  } while (!done);
  await ctl;
  assert.ok(sawCtl > 0, 'the ejabberdctl call was seen while it ran');
  const beam = scan([cookie, password], t.server.info.node);
  assert.ok(beam.marked > 0, 'the server process was seen');
  assert.deepEqual([...leaks, ...beam.leaks], []);

  // The password reached the server all the same, and so does a changed one (spaces and quotes too).
  const login = async (pw: string) => {
    const c = new Connection({
      kind: 'client',
      service: t.service,
      domain: t.host,
      username: 'cookie-user',
      password: pw,
      ca: t.ca,
      log: createLogger({ level: 'silent' }),
      maxStartAttempts: 1,
    });
    await c.start();
    await c.stop();
  };
  await login(password);
  const changed = `new pw "with' quotes ${randomBytes(3).toString('hex')}`;
  await t.server.changePassword('cookie-user', t.host, changed);
  await login(changed);
  await assert.rejects(
    t.server.changePassword('cookie-user', t.host, 'two\nlines'),
    (e: any) => e instanceof EjabberdError && /may not contain a line break/.test(e.message),
  );

  // The distribution port answers the right cookie only.
  assert.equal(await ping(t, 'not-the-cookie'), 'pang');
  assert.equal(await ping(t, cookie), 'pong');
});

test('a server directory its user cannot reach is refused at set-up, naming the directory in the way', {
  skip: process.getuid?.() !== 0 && 'the server changes user only when started by root',
}, async () => {
  const closed = mkdtempSync(join(tmpdir(), 'cgt-closed-'));
  chmodSync(closed, 0o700);
  await assert.rejects(
    EjabberdServer.prepare({ dir: join(closed, 'ejabberd') }),
    (e: any) =>
      e instanceof EjabberdError &&
      e.message.includes(`may not enter ${closed} (mode 700)`) &&
      e.message.includes(`chmod o+x ${closed}`),
  );
  rmSync(closed, { recursive: true, force: true });
});
