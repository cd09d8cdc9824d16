import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iniAccount, writeIniPassword } from '../../core/ini-password.js';
import { ConfigError } from '../../core/index.js';

function file(t: { after(fn: () => void): void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-inipw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'agent.ini');
  writeFileSync(f, text, { mode: 0o644 });
  return f;
}

test('the password replaces every other login of [xmpp] and nothing else; the file becomes private', (t) => {
  const f = file(
    t,
    '; the gateway\n[xmpp]\n; who\njid = gateway@localhost\njwt_key = ../var/ejabberd/conf/jwt.jwk\ntoken_ttl_s = 3600\n\n[gateway]\n; password = not this one\ntoken = kept\n',
  );
  assert.deepEqual(iniAccount(f), { user: 'gateway', domain: 'localhost' });
  writeIniPassword(f, 'Zm9v-bar_1');
  assert.equal(
    readFileSync(f, 'utf8'),
    '; the gateway\n[xmpp]\n; who\njid = gateway@localhost\npassword = Zm9v-bar_1\ntoken_ttl_s = 3600\n\n[gateway]\n; password = not this one\ntoken = kept\n',
  );
  assert.equal(statSync(f).mode & 0o777, 0o600);
  writeIniPassword(f, 'second');
  assert.match(readFileSync(f, 'utf8'), /jid = gateway@localhost\npassword = second\ntoken_ttl_s/);
});

test('a file that names no account is refused with the file and the reason', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['[log]\nlevel = info\n', /no \[xmpp\] section/],
    ['[xmpp]\nserver = x:1\n', /\[xmpp\] jid: required/],
    ['[xmpp]\njid = gateway\n', /:2 \[xmpp\] jid: expected a bare user@domain, got 'gateway'/],
    ['[xmpp]\njid = gw.localhost\nmode = component\n', /component secret/],
    ['[xmpp\njid = a@b\n', /agent\.ini:1 /],
  ];
  for (const [text, want] of cases) {
    const f = file(t, text);
    assert.throws(
      () => iniAccount(f),
      (e: any) => e instanceof ConfigError && e.message.startsWith(f) && want.test(e.message),
      text,
    );
  }
  assert.throws(() => iniAccount('/nonexistent/agent.ini'), /\/nonexistent\/agent\.ini: cannot read it \(ENOENT\)/);
  assert.throws(() => writeIniPassword(file(t, '[xmpp]\njid = a@b\n'), 'has space'), /plain characters/);
});
