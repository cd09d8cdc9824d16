import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ConfigInvalidError } from '../../core/config.js';
import { flavorSize, loadCluster, parseCluster, type ScalableService } from '../../agents/gateway/model/index.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/cluster.ini', import.meta.url));

function issues(text: string): string[] {
  try {
    parseCluster(text, 'c.ini');
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError, String(err));
    return err.message.split('\n');
  }
  assert.fail('expected the definition to be rejected');
}

const svc = (name: string, body: string) => `[service.${name}]\nflavor = small\nimage = img\n${body}\n`;
const cluster = (...services: string[]) => `[cluster]\nname = c\n${services.join('')}`;

test('the example cluster parses: fixed head first, 3 of 1..10 workers with a context', () => {
  const c = loadCluster(EXAMPLE);
  assert.equal(c.name, 'batch');
  assert.deepEqual(
    c.services.map((s) => `${s.type}:${s.name}`),
    ['fixed:head', 'scalable:worker'],
  );
  const head = c.services[0]!;
  assert.ok(head.type === 'fixed');
  assert.equal(head.count, 1);
  assert.deepEqual(head.flavor, { type: 'generic', name: 'medium' });
  assert.deepEqual(head.context, { ref: 'head' });
  const worker = c.services[1] as ScalableService;
  assert.deepEqual([worker.min, worker.initial, worker.max], [1, 3, 10]);
  assert.deepEqual(worker.flavor, { type: 'custom', cores: 2, memoryMb: 4096 });
  assert.deepEqual(worker.context, { ref: 'worker' });
  assert.deepEqual(worker.depends, ['head']);
  assert.deepEqual(worker.clouds, ['cloud-a', 'cloud-b']);
  assert.deepEqual(flavorSize(worker.flavor), { cores: 2, memoryMb: 4096 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.services[1]));
  assert.deepEqual(JSON.parse(JSON.stringify(c)), c, 'survives JSON (it is stored that way)');
});

test('defaults: fixed count 1, scalable min 0 and initial = min', () => {
  const c = parseCluster(
    cluster(svc('db', 'type = fixed'), svc('w', 'type = scalable\nmin = 2\nmax = 4\ndepends = db')),
  );
  const [db, w] = c.services;
  assert.ok(db?.type === 'fixed' && db.count === 1 && db.order === 0);
  assert.ok(w?.type === 'scalable' && w.min === 2 && w.initial === 2);
  const z = parseCluster(cluster(svc('w', 'type = scalable\nmax = 4'))).services[0] as ScalableService;
  assert.deepEqual([z.min, z.initial], [0, 0]);
});

test('deploy order: dependencies first, fixed by order before scalable, ties by name', () => {
  const c = parseCluster(
    cluster(
      svc('web', 'type = scalable\nmax = 3\ndepends = api'),
      svc('api', 'type = scalable\nmax = 3\ndepends = db, cache'),
      svc('cache', 'type = fixed\norder = 2'),
      svc('db', 'type = fixed\norder = 1'),
      svc('auth', 'type = fixed\norder = 2\ndepends = db'),
      svc('batch', 'type = scalable\nmax = 3'),
    ),
  );
  assert.deepEqual(
    c.services.map((s) => s.name),
    ['db', 'auth', 'cache', 'api', 'batch', 'web'],
  );
});

test('unknown depends names the service and suggests the nearest', () => {
  const msg = issues(cluster(svc('head', 'type = fixed'), svc('w', 'type = scalable\nmax = 2\ndepends = haed')));
  assert.deepEqual(msg, ["c.ini:12 [service.w] depends: unknown service 'haed' (did you mean 'head'?)"]);
});

test('dependency cycles are reported with their path', () => {
  const msg = issues(
    cluster(svc('a', 'type = scalable\nmax = 2\ndepends = b'), svc('b', 'type = scalable\nmax = 2\ndepends = a')),
  );
  assert.equal(msg.length, 1);
  assert.match(msg[0]!, /^c\.ini:\d+ \[service\.a\] depends: dependency cycle: a -> b -> a$/);
  assert.match(issues(cluster(svc('a', 'type = scalable\nmax = 2\ndepends = a')))[0]!, /cannot depend on itself/);
});

test('min <= initial <= max, and max is required for scalable services', () => {
  assert.match(
    issues(cluster(svc('w', 'type = scalable\nmin = 5\nmax = 3')))[0]!,
    /\[service\.w\] min: min 5 is above max 3/,
  );
  assert.match(
    issues(cluster(svc('w', 'type = scalable\nmin = 1\ninitial = 7\nmax = 3')))[0]!,
    /^c\.ini:\d+ \[service\.w\] initial: initial 7 is outside min\.\.max \(1\.\.3\)$/,
  );
  assert.match(issues(cluster(svc('w', 'type = scalable\nmin = 2\ninitial = 1\nmax = 3')))[0]!, /initial 1 is outside/);
  assert.match(issues(cluster(svc('w', 'type = scalable')))[0]!, /\[service\.w\] max: missing required key/);
});

test('fixed services come before scalable ones and respect their order', () => {
  assert.match(
    issues(cluster(svc('w', 'type = scalable\nmax = 2'), svc('h', 'type = fixed\ndepends = w')))[0]!,
    /\[service\.h\] depends: fixed service cannot depend on scalable service 'w'/,
  );
  assert.match(
    issues(cluster(svc('a', 'type = fixed\norder = 1\ndepends = b'), svc('b', 'type = fixed\norder = 2')))[0]!,
    /\[service\.a\] depends: depends on 'b' whose order 2 comes after 1/,
  );
});

test('keys belong to one kind of service', () => {
  const msg = issues(
    cluster(svc('h', 'type = fixed\nmax = 3'), svc('w', 'type = scalable\nmax = 3\ncount = 2\norder = 1')),
  );
  assert.deepEqual(
    msg.map((m) => m.replace(/^c\.ini:\d+ /, '')),
    [
      '[service.h] max: only for scalable services',
      '[service.w] order: only for fixed services',
      '[service.w] count: only for fixed services',
    ],
  );
});

test('flavor, context_version and names are checked', () => {
  assert.match(
    issues(cluster(svc('w', 'type = fixed').replace('small', 'huge')))[0]!,
    /\[service\.w\] flavor: expected small, medium, large or 'cores:N,memory:MB', got 'huge'/,
  );
  assert.match(issues(cluster(svc('w', 'type = fixed').replace('small', 'cores:2')))[0]!, /flavor: expected/);
  assert.match(issues(cluster(svc('w', 'type = fixed\ncontext_version = 2')))[0]!, /context_version: needs a context/);
  assert.match(issues(cluster(svc('9w', 'type = fixed')))[0]!, /\[service\.9w\]: service name must match/);
  assert.match(issues('[cluster]\nname = c\n')[0]!, /^c\.ini:1 \[cluster\]: no \[service\.<name>\] sections$/);
  const v = parseCluster(cluster(svc('w', 'type = fixed\ncontext = c-0123\ncontext_version = 4'))).services[0]!;
  assert.deepEqual(v.context, { ref: 'c-0123', version: 4 });
});

test('typos in keys and sections come from core/config with suggestions', () => {
  const msg = issues(`${cluster(svc('w', 'type = scalable\nmax = 3\nintial = 2'))}[servcie.x]\n`);
  assert.ok(msg.includes("c.ini:8 [service.w] intial: unknown key (did you mean 'initial'?)"), msg.join('\n'));
  assert.ok(msg.includes('c.ini:9 [servcie.x]: unknown section (did you mean [service.x]?)'), msg.join('\n'));
  assert.match(
    issues(cluster(svc('w', 'type = elastic\nmax = 2')))[0]!,
    /type: 'elastic' is not one of fixed, scalable/,
  );
});

test('a missing cluster file is a ConfigError naming it', () => {
  assert.throws(
    () => loadCluster('/nonexistent/cluster.ini'),
    /\/nonexistent\/cluster\.ini: cannot read cluster definition/,
  );
});
