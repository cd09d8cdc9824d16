/** The gateway checks a context body as the instance agent would, and says where each problem is. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createContextChecker, formatProblem } from '../../agents/gateway/context-check.js';

const BAD = `[amiconfig]
plugins = users scripts

[users]
alice = x

[scriptz]
after = echo hi
`;

test('a misspelt section and a bad [users] entry: an error with line, section and key, and a warning', async () => {
  const { check } = createContextChecker();
  const r = await check(BAD);
  assert.equal(r.errors.length, 1, JSON.stringify(r));
  const e = r.errors[0]!;
  assert.deepEqual(
    { plugin: e.plugin, line: e.line, section: e.section, key: e.key },
    { plugin: 'users', line: 5, section: 'users', key: 'alice' },
  );
  assert.match(formatProblem(e), /^line 5 \[users\] key "alice": .*"x"/);
  const w = r.warnings.map(formatProblem);
  assert.ok(
    w.some((x) => /^line 7 \[scriptz\]: section not applied: not listed in \[amiconfig\] plugins/.test(x)),
    w.join('\n'),
  );
  assert.ok(
    w.some((x) => /plugin "scripts" is enabled but the context has no \[scripts\] section/.test(x)),
    w.join('\n'),
  );
});

test('syntax errors, the reserved [cloudgate] section, unknown plugins and image users', async () => {
  const { check, accept } = createContextChecker();
  const syntax = await check('[amiconfig]\nplugins = environment\n[environment\nA = 1\n');
  assert.equal(syntax.errors.length, 1);
  assert.equal(syntax.errors[0]!.line, 3);

  const cg = await check(
    '[amiconfig]\nplugins = environment\n\n[environment]\nA = 1\n\n[cloudgate]\nserver = x:5222\n',
  );
  assert.ok(
    cg.errors.some((p) => p.section === 'cloudgate'),
    JSON.stringify(cg),
  );

  // An operator plugin may be on the image; a file owner may exist there: warnings, not errors.
  const maybe = await check(
    '[amiconfig]\nplugins = mine files\n\n[mine]\nx = 1\n\n[files]\n/etc/motd = owner:operator\n    hi\n',
  );
  assert.deepEqual(maybe.errors, [], JSON.stringify(maybe));
  assert.ok(maybe.warnings.some((p) => p.plugin === 'mine' && /unknown plugin "mine"/.test(p.message)));
  assert.ok(
    maybe.warnings.some(
      (p) => p.plugin === 'files' && p.key === '/etc/motd' && /unknown user "operator"/.test(p.message),
    ),
  );

  await assert.rejects(
    accept(BAD),
    (e: unknown) =>
      (e as { code?: string }).code === 'CG_CONTEXT_REJECTED' &&
      /line 5 \[users\] key "alice"/.test((e as Error).message),
  );
  assert.deepEqual(await accept('[amiconfig]\nplugins = environment\n\n[environment]\nA = 1\n'), []);
});
