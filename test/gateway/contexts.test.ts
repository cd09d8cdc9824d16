import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptContext, encryptContext } from '../../agents/gateway/model/index.js';
import { code, memoryModel } from './helpers.js';

const BODY = '[amiconfig]\nplugins = environment\n[environment]\nA = 1\n';

function setup() {
  const m = memoryModel();
  m.users.add('alice@example.org');
  m.users.add('bob@example.org');
  m.users.add('root@example.org', { admin: true });
  return m;
}

test('create gives version 1; newVersion appends and leaves earlier versions untouched', () => {
  const m = setup();
  const c = m.contexts.create({
    owner: 'Alice@Example.org/laptop',
    name: 'worker',
    content: { type: 'plain', body: BODY },
  });
  assert.deepEqual(
    { ...c },
    { id: 'c-1', name: 'worker', owner: 'alice@example.org', visibility: 'private', createdAt: m.clock.t, latest: 1 },
  );
  m.clock.t += 1000;
  const v2 = m.contexts.newVersion(c.id, { type: 'plain', body: `${BODY}B = 2\n` });
  assert.equal(v2.number, 2);
  assert.equal(v2.createdAt, m.clock.t);
  assert.deepEqual(m.contexts.version(c.id, 1)!.content, { type: 'plain', body: BODY });
  assert.deepEqual(m.contexts.version(c.id)!.content, { type: 'plain', body: `${BODY}B = 2\n` });
  assert.deepEqual(
    m.contexts.versions(c.id).map((v) => [v.number, v.encrypted]),
    [
      [1, false],
      [2, false],
    ],
  );
  assert.equal(m.contexts.get(c.id)!.latest, 2);
  assert.equal(m.contexts.version(c.id, 3), undefined);
});

test('the database itself refuses to rewrite a version', () => {
  const m = setup();
  const c = m.contexts.create({ owner: 'alice@example.org', name: 'w', content: { type: 'plain', body: BODY } });
  assert.throws(
    () => m.db.prepare("UPDATE context_versions SET body = 'evil' WHERE context_id = ?").run(c.id),
    /context versions are immutable/,
  );
  assert.deepEqual(m.contexts.version(c.id, 1)!.content, { type: 'plain', body: BODY });
});

test('names are unique per owner, not globally', () => {
  const m = setup();
  m.contexts.create({ owner: 'alice@example.org', name: 'w', content: { type: 'plain', body: BODY } });
  assert.equal(
    code(() => m.contexts.create({ owner: 'alice@example.org', name: 'w', content: { type: 'plain', body: BODY } })),
    'CG_CONFLICT',
  );
  m.contexts.create({ owner: 'bob@example.org', name: 'w', content: { type: 'plain', body: BODY } });
  assert.equal(
    code(() =>
      m.contexts.create({ owner: 'alice@example.org', name: 'bad name!', content: { type: 'plain', body: BODY } }),
    ),
    'CG_INVALID',
  );
  assert.equal(
    code(() => m.contexts.create({ owner: 'nobody@example.org', name: 'x', content: { type: 'plain', body: BODY } })),
    'CG_NOT_FOUND',
  );
});

test('clone copies a version into a new private context that names its parent', () => {
  const m = setup();
  const src = m.contexts.create({
    owner: 'alice@example.org',
    name: 'w',
    visibility: 'public',
    content: { type: 'plain', body: BODY },
  });
  m.contexts.newVersion(src.id, { type: 'plain', body: 'v2' });
  const clone = m.contexts.clone(src.id, 'bob@example.org');
  assert.deepEqual([clone.owner, clone.name, clone.visibility, clone.latest], ['bob@example.org', 'w', 'private', 1]);
  const v = m.contexts.version(clone.id, 1)!;
  assert.deepEqual(v.content, { type: 'plain', body: 'v2' });
  assert.deepEqual(v.parent, { contextId: src.id, version: 2 });
  const old = m.contexts.clone(src.id, 'bob@example.org', { name: 'w-old', version: 1 });
  assert.deepEqual(m.contexts.version(old.id)!.content, { type: 'plain', body: BODY });
  // The clone's new versions do not touch the source.
  m.contexts.newVersion(clone.id, { type: 'plain', body: 'bob' });
  assert.equal(m.contexts.get(src.id)!.latest, 2);
  assert.equal(
    code(() => m.contexts.clone(src.id, 'alice@example.org')),
    'CG_CONFLICT',
    'same owner, same name',
  );
  assert.equal(
    code(() => m.contexts.clone(src.id, 'bob@example.org', { name: 'x', version: 9 })),
    'CG_NOT_FOUND',
  );
});

test('private contexts: only the owner and admins may read or clone them', () => {
  const m = setup();
  const priv = m.contexts.create({
    owner: 'alice@example.org',
    name: 'secret',
    content: { type: 'plain', body: BODY },
  });
  const pub = m.contexts.create({
    owner: 'alice@example.org',
    name: 'shared',
    visibility: 'public',
    content: { type: 'plain', body: BODY },
  });
  assert.equal(
    code(() => m.contexts.clone(priv.id, 'bob@example.org')),
    'CG_FORBIDDEN',
  );
  assert.equal(m.contexts.clone(priv.id, 'root@example.org').owner, 'root@example.org');
  assert.deepEqual(
    m.contexts.list('bob@example.org').map((c) => c.name),
    ['shared'],
  );
  assert.deepEqual(
    m.contexts.list('alice@example.org').map((c) => c.name),
    ['secret', 'shared'],
  );
  assert.equal(m.contexts.list('root@example.org').length, 3);
  assert.equal(m.contexts.resolve(priv.id, 'bob@example.org'), undefined);
  assert.equal(m.contexts.resolve(pub.id, 'bob@example.org')!.id, pub.id);
  assert.equal(m.contexts.resolve('secret', 'alice@example.org')!.id, priv.id);
  assert.equal(m.contexts.resolve('secret', 'bob@example.org'), undefined);
  m.contexts.setVisibility(priv.id, 'public');
  assert.equal(m.contexts.get(priv.id)!.latest, 1, 'visibility is not a new version');
  assert.equal(m.contexts.clone(priv.id, 'bob@example.org').owner, 'bob@example.org');
});

test('encrypted versions store the envelope; only the passphrase opens them', async () => {
  const m = setup();
  const blob = await encryptContext(BODY, 'pw');
  const c = m.contexts.create({ owner: 'alice@example.org', name: 'enc', content: { type: 'encrypted', blob } });
  const v = m.contexts.version(c.id)!;
  assert.equal(v.encrypted, true);
  assert.ok(v.content.type === 'encrypted');
  assert.equal(await decryptContext(v.content.blob, 'pw'), BODY);
  const clone = m.contexts.version(m.contexts.clone(c.id, 'root@example.org').id)!;
  assert.ok(clone.content.type === 'encrypted' && Buffer.compare(clone.content.blob, blob) === 0);
  assert.equal(
    code(() => m.contexts.newVersion(c.id, { type: 'encrypted', blob: Buffer.from('not an envelope') })),
    'CG_INVALID',
  );
});

test('a context in use by an instance cannot be removed', () => {
  const m = setup();
  const c = m.contexts.create({ owner: 'alice@example.org', name: 'w', content: { type: 'plain', body: BODY } });
  const d = m.deployments.create('alice@example.org', { name: 'x', services: [] });
  m.instances.add({ deploymentId: d.id, service: 'w', cloud: 'a@clouds', context: { id: c.id, version: 1 } });
  assert.equal(
    code(() => m.contexts.remove(c.id)),
    'CG_CONFLICT',
  );
  const unused = m.contexts.create({ owner: 'alice@example.org', name: 'u', content: { type: 'plain', body: BODY } });
  assert.equal(m.contexts.remove(unused.id), true);
  assert.equal(m.contexts.versions(unused.id).length, 0);
});
