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
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { EjabberdServer, EjabberdError } from '../../ejabberd/index.js';

const execFileP = promisify(execFile);

function readProc(pid: string, what: 'cmdline' | 'environ'): string {
  try { return readFileSync(`/proc/${pid}/${what}`, 'latin1'); } catch { return ''; }
}

/** Every process on the machine whose command line or environment holds `secret`, and those naming `mark`. */
function scan(secret: string, mark: string): { leaks: string[]; marked: number } {
  const leaks: string[] = [];
  let marked = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const cmd = readProc(pid, 'cmdline');
    if (cmd.includes(mark)) marked++;
    for (const what of ['cmdline', 'environ'] as const) {
      if ((what === 'cmdline' ? cmd : readProc(pid, what)).includes(secret)) leaks.push(`${pid} ${what}: ${cmd.replaceAll('\0', ' ').slice(0, 200)}`);
    }
  }
  return { leaks, marked };
}

/** Pings the server's node from a fresh hidden node holding `cookie`: 'pong' or 'pang'. */
async function ping(t: TestServer, cookie: string): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'cgt-cookie-'));
  writeFileSync(join(home, '.erlang.cookie'), cookie, { mode: 0o400 });
  const { info } = t.server;
  const { stdout } = await execFileP('/usr/bin/erl', [
    '-sname', `probe${process.pid}@localhost`, '-hidden', '-noinput',
    '-erl_epmd_port', String(info.distPort), '-start_epmd', 'false', '-dist_listen', 'false',
    '-eval', `io:format("~p~n", [net_adm:ping('${info.node}')]), halt().`,
  ], { env: { PATH: process.env.PATH, HOME: home, ERL_INETRC: join(info.dir, 'conf', 'inetrc') }, timeout: 60_000 });
  return stdout.trim();
}

test('the Erlang cookie is in no process\'s arguments or environment, only in a file the server\'s user alone reads', { timeout: 120_000 }, async () => {
  const t = await startEjabberd();
  const file = join(t.server.dir, '.erlang.cookie');
  const cookie = readFileSync(file, 'utf8').trim();
  assert.ok(cookie.length >= 20, 'a cookie was written');
  const st = statSync(file);
  assert.equal(st.mode & 0o777, 0o400);
  assert.equal(st.uid, statSync(join(t.server.dir, 'spool')).uid, 'owned by the server\'s user');
  assert.ok(!readFileSync(join(t.server.dir, 'server.json'), 'utf8').includes(cookie), 'server.json does not hold it');

  // The server itself, and each ejabberdctl call while it runs (it names the server's node).
  let done = false;
  const ctl = t.register('cookie-user', 'pw-cookie-user').finally(() => { done = true; });
  let sawCtl = 0;
  const leaks = new Set<string>();
  do {
    const s = scan(cookie, `-extra\0${t.server.info.node}`);
    sawCtl += s.marked;
    for (const l of s.leaks) leaks.add(l);
    await new Promise((r) => setImmediate(r));
  } while (!done);
  await ctl;
  assert.ok(sawCtl > 0, 'the ejabberdctl call was seen while it ran');
  const beam = scan(cookie, t.server.info.node);
  assert.ok(beam.marked > 0, 'the server process was seen');
  assert.deepEqual([...leaks, ...beam.leaks], []);

  // The distribution port answers the right cookie only.
  assert.equal(await ping(t, 'not-the-cookie'), 'pang');
  assert.equal(await ping(t, cookie), 'pong');
});

test('a server directory its user cannot reach is refused at set-up, naming the directory in the way', { skip: process.getuid?.() !== 0 && 'the server changes user only when started by root' }, async () => {
  const closed = mkdtempSync(join(tmpdir(), 'cgt-closed-'));
  chmodSync(closed, 0o700);
  await assert.rejects(EjabberdServer.prepare({ dir: join(closed, 'ejabberd') }),
    (e: any) => e instanceof EjabberdError && e.message.includes(`may not enter ${closed} (mode 700)`) && e.message.includes(`chmod o+x ${closed}`));
  rmSync(closed, { recursive: true, force: true });
});
