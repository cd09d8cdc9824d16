import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { applyContext, type ApplyReport } from '../../agents/instance/context/index.js';
import { tempRoot, read, mode } from './helpers.js';

const HASH = '$6$salt$abcdefghijklmnopqrstuvwxyz0123456789';

function seed(root: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/bash\n+nisuser::::::\nold:x:1000:1000::/home/old:/bin/sh\n',
  );
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nwheel:x:10:root\nold:x:1000:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\nold:!:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\nwheel:*::root\nold:!::\n', { mode: 0o640 });
}

const ctxText = [
  '[amiconfig]',
  'plugins = groups users',
  '[groups]',
  'analysts = gid:2000 members:old',
  'daemons = system',
  '[users]',
  `alice = uid:1001 groups:wheel,docker shell:/bin/zsh comment:"Alice Smith" password:${HASH}`,
  'bob = locked',
].join('\n');

const status = (r: ApplyReport) =>
  r.results.map((x) => `${x.plugin}=${x.status}${x.changed === undefined ? '' : x.changed ? '+' : '-'}`);

test('users and groups: create accounts, keep foreign lines, idempotent', async (t) => {
  const root = tempRoot(t);
  seed(root);
  const r1 = await applyContext(ctxText, { root, previous: null });
  assert.deepEqual(status(r1), ['groups=ok+', 'users=ok+'], JSON.stringify(r1.results));

  const passwd = read(root, 'etc/passwd').split('\n');
  assert.equal(passwd[1], '+nisuser::::::', 'NIS line kept verbatim');
  assert.ok(passwd.includes('alice:x:1001:1001:Alice Smith:/home/alice:/bin/zsh'), read(root, 'etc/passwd'));
  assert.ok(passwd.includes('bob:x:1002:1002::/home/bob:/bin/sh'), read(root, 'etc/passwd'));

  const group = read(root, 'etc/group').split('\n');
  assert.ok(group.includes('analysts:x:2000:old'));
  assert.ok(group.includes('daemons:x:100:'), 'system group allocated from 100');
  assert.ok(group.includes('wheel:x:10:root,alice'));
  assert.ok(group.includes('alice:x:1001:'));
  assert.ok(
    group.some((l) => /^docker:x:\d+:alice$/.test(l)),
    'missing supplementary group created',
  );
  assert.ok(read(root, 'etc/gshadow').includes('wheel:*::root,alice'));

  const shadow = read(root, 'etc/shadow');
  assert.match(shadow, new RegExp(`^alice:${HASH.replaceAll('$', '\\$')}:\\d+:0:99999:7:::$`, 'm'));
  assert.match(shadow, /^bob:!:\d+:0:99999:7:::$/m);
  assert.equal(mode(root, 'etc/shadow'), 0o640, 'existing mode kept on rewrite');

  const home = statSync(join(root, 'home/alice'));
  assert.ok(home.isDirectory());
  assert.equal(home.mode & 0o777, 0o700);
  if (process.getuid?.() === 0) assert.equal(home.uid, 1001);

  const before = ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow'].map((f) => read(root, f));
  const r2 = await applyContext(ctxText, { root, previous: null });
  assert.deepEqual(status(r2), ['groups=ok-', 'users=ok-'], JSON.stringify(r2.results));
  assert.deepEqual(
    ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow'].map((f) => read(root, f)),
    before,
  );
});

test('users: files are created when missing; new shadow is private', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext('[users]\ncarol = uid:1500 gid:1500\n', { root });
  assert.equal(r.results[0].status, 'ok', JSON.stringify(r.results));
  assert.equal(read(root, 'etc/passwd'), 'carol:x:1500:1500::/home/carol:/bin/sh\n');
  assert.equal(read(root, 'etc/group'), 'carol:x:1500:\n');
  assert.equal(mode(root, 'etc/shadow'), 0o600);
});

test('users: existing account is never renumbered, and nothing is written', async (t) => {
  const root = tempRoot(t);
  seed(root);
  const before = read(root, 'etc/passwd');
  const r = await applyContext('[users]\nnewbie = uid:1200\nold = uid:1234\n', { root });
  assert.equal(r.results[0].status, 'failed');
  assert.match(r.results[0].message!, /"old" exists with uid 1000; refusing to renumber/);
  assert.equal(read(root, 'etc/passwd'), before);
});

test('users/groups: data errors name the line and key, nothing applied', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext(
    '[groups]\nok = gid:3000\nbad group = gid:1\n[users]\nmallory = password:hunter2\neve = uid:7 shel:/bin/sh\n',
    { root },
  );
  assert.equal(r.ok, false);
  const [groups, users] = r.results;
  assert.equal(groups.status, 'data-error');
  assert.match(groups.message!, /line 3 \[groups\] key "bad group": bad group name/);
  assert.equal(users.status, 'data-error');
  assert.match(users.message!, /line 5 \[users\] key "mallory": password must be a crypt\(3\) hash/);
  assert.match(users.message!, /line 6 \[users\] key "eve": unknown option "shel:"/);
  assert.throws(() => read(root, 'etc/passwd'), /ENOENT/);
});

test('users: a group whose gid [groups] fixes must be made by groups first', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext(
    '[amiconfig]\nplugins = users groups\n[users]\nalice = groups:science\n[groups]\nscience = gid:4000\n',
    { root },
  );
  assert.equal(r.results[0].status, 'data-error');
  assert.match(
    r.results[0].message!,
    /line 4 \[users\] key "alice": group "science" gets its gid from \[groups\]: list groups before users/,
  );
  const ok = await applyContext(
    '[amiconfig]\nplugins = groups users\n[users]\nalice = groups:science\n[groups]\nscience = gid:4000\n',
    { root },
  );
  assert.equal(ok.ok, true, JSON.stringify(ok.results));
  assert.match(read(root, 'etc/group'), /^science:x:4000:alice$/m);
});
