import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyContext, loadPlugins, ContextError } from '../../agents/instance/context/index.js';
import { tempRoot, read } from './helpers.js';

const GREETING = `
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
export default {
  name: 'greeting',
  validate(section) { return section.has('text') ? [] : [{ key: 'text', message: 'text is required' }]; },
  apply(section, ctx) {
    const p = ctx.path('/etc/greeting');
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, section.get('text') + ' v' + ctx.version + '\\n');
    return { changed: true, message: 'greeted', detail: { when: new Date(0) } };
  },
};
`;

test('operator plugin loaded from a directory applies beside the built-ins', async (t) => {
  const dir = tempRoot(t, 'cg-plugins-');
  writeFileSync(join(dir, 'greeting.mjs'), GREETING);
  writeFileSync(
    join(dir, 'boom.js'),
    "export const name = 'boom';\nexport function apply() { throw new Error('kaboom'); }\n",
  );
  writeFileSync(join(dir, 'README.txt'), 'not a module');
  const root = tempRoot(t);
  const text =
    '[cloudgate]\njid = a@b.org\ncontext_version = 4\n[amiconfig]\nplugins = greeting environment\n[greeting]\ntext = hello\n[environment]\nA = 1\n';
  const r = await applyContext(text, { root, pluginDirs: [dir] });
  assert.deepEqual(
    r.results.map((x) => `${x.plugin}=${x.status}`),
    ['greeting=ok', 'environment=ok'],
  );
  assert.equal(read(root, 'etc/greeting'), 'hello v4\n');
  assert.deepEqual(r.results[0].detail, { when: '1970-01-01T00:00:00.000Z' }, 'detail made JSON');

  const bad = await applyContext(text.replace('text = hello', 'txt = hello'), { root: tempRoot(t), pluginDirs: [dir] });
  assert.equal(bad.results[0].status, 'data-error');
  assert.match(bad.results[0].message!, /\[greeting\] key "text": text is required/);

  const boom = await applyContext('[amiconfig]\nplugins = boom environment\n[environment]\nA = 1\n', {
    root: tempRoot(t),
    pluginDirs: [dir],
  });
  assert.deepEqual(
    boom.results.map((x) => `${x.plugin}=${x.status}`),
    ['boom=failed', 'environment=disabled'],
  );
  assert.equal(boom.results[0].message, 'kaboom');
});

test('operator plugins cannot silently replace a built-in or each other', async (t) => {
  const dir = tempRoot(t, 'cg-plugins-');
  writeFileSync(join(dir, 'users.js'), "export default { name: 'users', apply() {} };\n");
  await assert.rejects(loadPlugins([dir]), (err: unknown) => {
    assert.ok(err instanceof ContextError);
    assert.equal(err.code, 'CG_CONTEXT_PLUGIN_CONFLICT');
    assert.match(err.message, /plugin "users" from .*users\.js clashes with the one from built-in/);
    return true;
  });
  const dir2 = tempRoot(t, 'cg-plugins-');
  writeFileSync(join(dir2, 'a.js'), "export default { name: 'same', apply() {} };\n");
  writeFileSync(join(dir2, 'b.js'), "export default { name: 'same', apply() {} };\n");
  await assert.rejects(
    applyContext('[x]\na=1\n', { root: tempRoot(t), pluginDirs: [dir2] }),
    /CG_CONTEXT_PLUGIN_CONFLICT|clashes/,
  );
});

test('malformed or missing operator plugins are load errors', async (t) => {
  const dir = tempRoot(t, 'cg-plugins-');
  writeFileSync(join(dir, 'noapply.js'), "export const name = 'noapply';\n");
  await assert.rejects(
    loadPlugins([dir]),
    (err: unknown) => err instanceof ContextError && err.code === 'CG_CONTEXT_PLUGIN_LOAD' && /apply/.test(err.message),
  );
  const dir2 = tempRoot(t, 'cg-plugins-');
  writeFileSync(join(dir2, 'syntax.js'), 'export default {{{\n');
  await assert.rejects(
    loadPlugins([dir2]),
    (err: unknown) => err instanceof ContextError && err.code === 'CG_CONTEXT_PLUGIN_LOAD',
  );
  await assert.rejects(loadPlugins([join(dir2, 'missing')]), /cannot read plugin directory/);
});
