import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bool,
  duration,
  enumOf,
  hostPort,
  int,
  jid,
  list,
  loadConfig,
  normalizeJid,
  num,
  parseConfig,
  path,
  record,
  redacted,
  section,
  sections,
  str,
  ConfigInvalidError,
  type ConfigIssue,
  type Field,
} from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';

const schema = {
  xmpp: section({
    jid: jid(),
    password: str({ secret: true, optional: true }),
    server: hostPort({ default: '127.0.0.1:5222' }),
    ca: path({ optional: true }),
    tls: bool({ default: true }),
    timeout: duration({ default: '30s' }),
  }),
  quota: section(
    { instances: int({ min: 0, default: 100 }), cores: int({ optional: true }), ratio: num({ optional: true }) },
    { optional: true },
  ),
  agent: section({ kind: enumOf(['gateway', 'cloud', 'instance']), groups: list({ default: 'admins' }) }),
  driver: record({ secret: ['secret_key'] }),
  'flavor.*': sections({ cores: int({ min: 1 }), memory_mb: int({ min: 64 }) }),
};

const GOOD = `
; comment
# another comment
[xmpp]
jid = Cloud-A@Example.ORG/agent
password = p#ss;word
ca = certs/ca.pem
timeout = 1h30m

[quota]
instances = 12
ratio = 1.5

[agent]
kind = cloud
groups = ops, admins  devs

[driver]
region = eu-west-1
secret_key = "  s3cr3t  "

[flavor.small]
cores = 1
memory_mb = 2048

[flavor.large]
cores = 8
memory_mb = 32768
`;

function issuesOf(fn: () => unknown): readonly ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError, `expected ConfigInvalidError, got ${String(err)}`);
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CG_CONFIG');
    return err.issues;
  }
  assert.fail('expected parseConfig to throw');
}

function messageOf(text: string, s: Parameters<typeof parseConfig>[2] = schema, file = 'cloud.ini'): string {
  try {
    parseConfig(text, file, s);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('expected parseConfig to throw');
}

const MIN = '[xmpp]\njid = a@b\n[agent]\nkind = cloud\n';

test('parses, converts and types a complete file', () => {
  const cfg = parseConfig(GOOD, '/etc/cloudgate/cloud.ini', schema);
  assert.equal(cfg.xmpp.jid, 'cloud-a@example.org/agent');
  assert.equal(cfg.xmpp.password, 'p#ss;word');
  assert.deepEqual(cfg.xmpp.server, { host: '127.0.0.1', port: 5222 });
  assert.equal(cfg.xmpp.ca, '/etc/cloudgate/certs/ca.pem');
  assert.equal(cfg.xmpp.tls, true);
  assert.equal(cfg.xmpp.timeout, 5_400_000);
  assert.equal(cfg.quota?.instances, 12);
  assert.equal(cfg.quota?.cores, undefined);
  assert.equal(cfg.quota?.ratio, 1.5);
  assert.equal(cfg.agent.kind, 'cloud');
  assert.deepEqual(cfg.agent.groups, ['ops', 'admins', 'devs']);
  assert.deepEqual(cfg.driver, { region: 'eu-west-1', secret_key: '  s3cr3t  ' });
  assert.deepEqual(Object.keys(cfg['flavor.*']).sort(), ['large', 'small']);
  assert.equal(cfg['flavor.*'].large!.memory_mb, 32768);
});

// Type-level checks in their own function (assert.equal narrows types): these lines fail
// to compile if inference from the schema regresses.
export function typeChecks(cfg: ReturnType<typeof parseConfig<typeof schema>>): void {
  const port: number = cfg.xmpp.server.port;
  const kind: 'gateway' | 'cloud' | 'instance' = cfg.agent.kind;
  const small: number | undefined = cfg['flavor.*'].small?.cores;
  // @ts-expect-error password is optional, so possibly undefined
  const pw: string = cfg.xmpp.password;
  // @ts-expect-error quota is an optional section
  void cfg.quota.instances;
  // @ts-expect-error agent.kind is a closed union
  const k2: 'other' = cfg.agent.kind;
  void port;
  void kind;
  void pw;
  void small;
  void k2;
}

test('the result is deeply frozen', () => {
  const cfg = parseConfig(GOOD, 'cloud.ini', schema);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.xmpp) && Object.isFrozen(cfg.xmpp.server));
  assert.ok(Object.isFrozen(cfg.agent.groups) && Object.isFrozen(cfg['flavor.*'].small));
  assert.throws(() => {
    (cfg.xmpp as { jid: string }).jid = 'x@y';
  }, TypeError);
  assert.throws(() => {
    (cfg.agent.groups as string[]).push('x');
  }, TypeError);
});

test('defaults apply; an optional section may be absent; an absent section with only defaults materializes', () => {
  const cfg = parseConfig(MIN, 'cloud.ini', schema);
  assert.equal(cfg.quota, undefined);
  assert.deepEqual(cfg.agent.groups, ['admins']);
  assert.equal(cfg.xmpp.timeout, 30_000);
  assert.ok(!('password' in cfg.xmpp));
  assert.deepEqual(cfg.driver, {});
  assert.deepEqual(cfg['flavor.*'], {});
  const q = parseConfig(`${MIN}[quota]\n`, 'cloud.ini', schema);
  assert.equal(q.quota?.instances, 100);
  const s2 = { opts: section({ level: str({ default: 'info' }) }) };
  assert.equal(parseConfig('', 'x.ini', s2).opts.level, 'info');
});

test('unknown key names file, line, section and the nearest known key', () => {
  assert.equal(
    messageOf(`${MIN}[quota]\ninstnaces = 3\n`),
    "cloud.ini:6 [quota] instnaces: unknown key (did you mean 'instances'?)",
  );
  assert.equal(messageOf(`${MIN}[quota]\nzzz = 3\n`), 'cloud.ini:6 [quota] zzz: unknown key');
});

test('unknown section suggests the nearest, including pattern sections', () => {
  assert.equal(messageOf(`${MIN}[qouta]\n`), 'cloud.ini:5 [qouta]: unknown section (did you mean [quota]?)');
  assert.equal(
    messageOf(`${MIN}[flavr.small]\ncores = 1\n`),
    'cloud.ini:5 [flavr.small]: unknown section (did you mean [flavor.small]?)',
  );
});

test('missing required keys and sections are reported', () => {
  const issues = issuesOf(() => parseConfig('[agent]\nkind = cloud\n[flavor.tiny]\ncores = 1\n', 'cloud.ini', schema));
  assert.deepEqual(
    issues.map((i) => [i.section, i.key, i.message]),
    [
      ['xmpp', 'jid', 'missing required key (section [xmpp] is absent)'],
      ['flavor.tiny', 'memory_mb', 'missing required key'],
    ],
  );
});

test('every problem is reported at once, one per line of the message', () => {
  const text = '[xmpp]\njid = not a jid\n[agent]\nkind = clod\ngroups = a\n[quota]\ninstances = -1\ncores = ten\n';
  const issues = issuesOf(() => parseConfig(text, 'cloud.ini', schema));
  assert.equal(issues.length, 4);
  const msg = messageOf(text);
  assert.equal(msg.split('\n').length, 4);
  assert.match(msg, /^cloud\.ini:2 \[xmpp\] jid: 'not a jid' is not a valid JID/m);
  assert.match(
    msg,
    /^cloud\.ini:4 \[agent\] kind: 'clod' is not one of gateway, cloud, instance \(did you mean 'cloud'\?\)$/m,
  );
  assert.match(msg, /^cloud\.ini:7 \[quota\] instances: -1 is below the minimum 0$/m);
  assert.match(msg, /^cloud\.ini:8 \[quota\] cores: expected an integer, got 'ten'$/m);
});

test('field kinds reject bad values', () => {
  const one = <F extends Parameters<typeof section>[0]['x']>(f: F, raw: string) =>
    messageOf(`[s]\nx = ${raw}\n`, { s: section({ x: f }) }, 'f.ini');
  assert.match(one(int({ max: 5 }), '6'), /6 is above the maximum 5/);
  assert.match(one(int(), '1.5'), /expected an integer/);
  assert.match(one(int(), ''), /expected an integer, got ''/);
  assert.match(one(num(), 'abc'), /expected a number/);
  assert.match(one(bool(), 'maybe'), /expected true\/false/);
  assert.match(one(duration(), '5 min'), /expected a duration/);
  assert.match(one(duration({ min: 1000 }), '250ms'), /250ms is below the minimum 1000ms/);
  assert.match(one(hostPort(), 'example.org'), /has no port/);
  assert.match(one(hostPort(), 'h:70000'), /port 70000 is out of range/);
  assert.match(one(hostPort(), '::1:5222'), /IPv6 addresses in brackets/);
  assert.match(one(jid({ bare: true }), 'a@b/c'), /bare JID/);
  assert.match(one(list({ minItems: 1 }), ' , '), /at least 1 item/);
  assert.match(one(str({ pattern: /^[a-z]+$/ }), 'A1'), /does not match/);
  assert.match(one(path({ mustExist: true }), '/nonexistent/zz'), /does not exist/);
});

test('field kinds convert good values', () => {
  const v = (f: Field<unknown, boolean>, raw: string) =>
    parseConfig(`[s]\nx = ${raw}\n`, '/tmp/f.ini', { s: section({ x: f }) }).s.x;
  assert.equal(v(duration(), '250ms'), 250);
  assert.equal(v(duration(), '5m'), 300_000);
  assert.equal(v(duration(), '2'), 2000);
  assert.equal(v(duration(), '1.5'), 1500);
  assert.equal(v(duration(), '1d2h'), 93_600_000);
  for (const [raw, b] of [
    ['yes', true],
    ['NO', false],
    ['1', true],
    ['0', false],
    ['On', true],
  ] as const)
    assert.equal(v(bool(), raw), b);
  assert.deepEqual(v(hostPort(), '[::1]:5280'), { host: '::1', port: 5280 });
  assert.deepEqual(v(hostPort({ defaultPort: 5222 }), 'xmpp.example.org'), { host: 'xmpp.example.org', port: 5222 });
  assert.equal(v(path(), '/abs/p'), '/abs/p');
  assert.equal(v(path(), '../x'), '/x');
  assert.deepEqual(v(list(), ''), []);
  assert.equal(v(int(), '+7'), 7);
  assert.equal(v(str(), "'  padded '"), '  padded ');
});

test('syntax problems: lines outside sections, missing =, duplicates', () => {
  const issues = issuesOf(() =>
    parseConfig('stray = 1\n[xmpp]\njid = a@b\njid = c@d\nnonsense\n[agent]\nkind = cloud\n[xmpp]\n', 'c.ini', schema),
  );
  assert.deepEqual(
    issues.map((i) => `${i.line} ${i.message}`),
    [
      '1 line outside any [section]',
      '4 duplicate key (first on line 3)',
      "5 expected 'key = value', got 'nonsense'",
      '8 duplicate section (first on line 2)',
    ],
  );
});

test('loadConfig names the file and the OS reason when it cannot read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-config-'));
  assert.throws(
    () => loadConfig(join(dir, 'missing.ini'), schema),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        `${join(dir, 'missing.ini')}: cannot read configuration (ENOENT: no such file or directory)`,
      );
      return true;
    },
  );
  mkdirSync(join(dir, 'adir.ini'));
  assert.throws(() => loadConfig(join(dir, 'adir.ini'), schema), /adir\.ini: cannot read configuration \(EISDIR/);
});

test('loadConfig reads a file and resolves paths next to it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-config-'));
  writeFileSync(join(dir, 'ca.pem'), 'x');
  writeFileSync(join(dir, 'cloud.ini'), '\uFEFF[xmpp]\r\njid = a@b\r\nca = ca.pem\r\n[agent]\r\nkind = gateway\r\n');
  const cfg = loadConfig(join(dir, 'cloud.ini'), schema);
  assert.equal(cfg.xmpp.ca, join(dir, 'ca.pem'));
  assert.equal(cfg.agent.kind, 'gateway');
});

test('redacted hides secret fields and secret record keys, leaving the original intact', () => {
  const cfg = parseConfig(GOOD, 'cloud.ini', schema);
  const r = redacted(cfg) as {
    xmpp: Record<string, unknown>;
    driver: Record<string, unknown>;
    quota: Record<string, unknown>;
  };
  assert.equal(r.xmpp.password, '[redacted]');
  assert.equal(r.driver.secret_key, '[redacted]');
  assert.equal(r.driver.region, 'eu-west-1');
  assert.equal(r.xmpp.jid, 'cloud-a@example.org/agent');
  assert.equal(r.quota.instances, 12);
  assert.equal(cfg.xmpp.password, 'p#ss;word');
  assert.ok(!JSON.stringify(r).includes('s3cr3t') && !JSON.stringify(r).includes('p#ss'));
  const noPw = redacted(parseConfig(MIN, 'cloud.ini', schema)) as { xmpp: Record<string, unknown> };
  assert.ok(!('password' in noPw.xmpp));
  const all = redacted(parseConfig('[d]\na = 1\nb = 2\n', 'x.ini', { d: record({ secret: true }) }));
  assert.deepEqual(all, { d: { a: '[redacted]', b: '[redacted]' } });
});

test('__proto__ cannot be smuggled in as a record key or section name', () => {
  const msg = messageOf(`${MIN}[driver]\n__proto__ = x\n[flavor.__proto__]\ncores = 1\nmemory_mb = 64\n`);
  assert.equal(msg, 'cloud.ini:6 [driver] __proto__: reserved name\ncloud.ini:7 [flavor.__proto__]: reserved name');
  assert.equal(({} as Record<string, unknown>).cores, undefined);
});

test('a section header may carry a trailing comment', () => {
  assert.equal(
    parseConfig('[xmpp] ; the server\njid = a@b\n[agent] # role\nkind = cloud\n', 'c.ini', schema).agent.kind,
    'cloud',
  );
});

test('records can convert their values with a field', () => {
  const cfg = parseConfig('[limits]\nalice = 5\nbob = 7\n', 'x.ini', { limits: record({ value: int({ min: 0 }) }) });
  const n: number = cfg.limits.alice!;
  assert.equal(n + cfg.limits.bob!, 12);
  assert.match(
    messageOf('[limits]\nalice = many\n', { limits: record({ value: int() }) }, 'x.ini'),
    /^x\.ini:2 \[limits\] alice: expected an integer/,
  );
});

test('schema mistakes are programming errors, caught early', () => {
  assert.throws(() => parseConfig('', 'x.ini', { flavor: sections({}) }), TypeError);
  assert.throws(() => parseConfig('', 'x.ini', { 'flavor.*': section({}) }), TypeError);
  assert.throws(() => int({ default: 'ten' as unknown as number }), /invalid default for int/);
  assert.throws(() => enumOf(['a', 'b'], { default: 'c' as 'a' }), /invalid default for enum/);
});

test('normalizeJid validates and lower-cases local and domain parts', () => {
  assert.equal(normalizeJid('Alice@Example.ORG/Phone'), 'alice@example.org/Phone');
  assert.equal(normalizeJid('example.org'), 'example.org');
  assert.equal(normalizeJid('a@[::1]'), 'a@[::1]');
  for (const bad of ['', '@example.org', 'a b@example.org', 'a@', 'a@example.org/', 'a@.example.org', 'a@b@c']) {
    assert.throws(
      () => normalizeJid(bad),
      (e: Error & { code?: string }) => e.code === 'CG_INVALID_JID',
      bad,
    );
  }
  assert.throws(() => normalizeJid('a@b/r', { bare: true }), /bare JID/);
});
