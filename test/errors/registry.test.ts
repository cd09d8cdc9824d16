/**
 * The registry of error codes is complete and true (after fastify's test/internals/errors.test.js):
 * the source is scanned for CG_* codes; each must be registered in errors/codes.ts and
 * listed in docs/errors.md, and each registered code must be used somewhere. Application
 * conditions likewise: each is used, documented, and agrees with its code's entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Element, parse } from 'ltx';
import { CODES, APP_CONDITIONS, CONDITIONS, isCode } from '../../errors/index.js';
import { StanzaError } from '../../protocols/index.js';

// This file runs from dist/test/errors/; the sources are three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE_DIRS = [
  'errors',
  'core',
  'protocols',
  'images',
  'agents',
  'drivers',
  'ejabberd',
  'bench',
  'examples',
  'scripts',
];
const REGISTRY = join('errors', 'codes.ts');

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(root, dir))) {
    const p = join(dir, e);
    if (statSync(join(root, p)).isDirectory()) sources(p, out);
    else if (/\.(ts|mjs|js)$/.test(e)) out.push(p);
  }
  return out;
}

/** Every CG_* token in the source outside the registry itself, with where it occurs. */
function used(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of SOURCE_DIRS.flatMap((d) => sources(d))) {
    if (file === REGISTRY) continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/CG_[A-Z0-9_]+/g)) found.set(m[0], [...(found.get(m[0]) ?? []), file]);
  }
  return found;
}

const docs = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
const documentedCodes = new Set([...docs.matchAll(/^\| `(CG_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
const documentedApps = new Set(
  [...docs.matchAll(/^\| `([a-z-]+)` \| `([a-z-]+)` \| `(CG_[A-Z0-9_]+)` \|$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`),
);

test('every CG_* code in the source is registered (a trailing _ is a prefix of registered codes)', () => {
  const unknown: string[] = [];
  for (const [token, files] of used()) {
    const ok = token.endsWith('_') ? Object.keys(CODES).some((c) => c.startsWith(token)) : isCode(token);
    if (!ok) unknown.push(`${token} (${[...new Set(files)].join(', ')})`);
  }
  assert.deepEqual(unknown, [], 'codes used but not in errors/codes.ts');
});

test('every registered code is used in the source', () => {
  const seen = used();
  assert.deepEqual(
    Object.keys(CODES).filter((c) => !seen.has(c)),
    [],
    'codes in errors/codes.ts that nothing raises',
  );
});

test('docs/errors.md lists exactly the registered codes, each with its meaning', () => {
  assert.deepEqual(
    [...documentedCodes].filter((c) => !isCode(c)),
    [],
    'documented codes that are not registered',
  );
  for (const [code, info] of Object.entries(CODES)) {
    const line = docs.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    assert.ok(line, `${code} is not in docs/errors.md`);
    assert.ok(
      line.includes(info.description.replace(/\|/g, '\\|')),
      `docs/errors.md: ${code} does not say "${info.description}"`,
    );
    if ('condition' in info)
      assert.ok(
        line.includes(`\`${info.condition}\``),
        `docs/errors.md: ${code} does not name its condition ${info.condition}`,
      );
  }
});

test('every application condition is documented, used, and agrees with its code', () => {
  const text = SOURCE_DIRS.flatMap((d) => sources(d))
    .filter((f) => !f.startsWith('errors'))
    .map((f) => readFileSync(join(root, f), 'utf8'))
    .join('\n');
  for (const [app, { condition, code }] of Object.entries(APP_CONDITIONS)) {
    assert.ok(
      documentedApps.has(`${app} ${condition} ${code}`),
      `docs/errors.md does not list ${app} (${condition}, ${code})`,
    );
    assert.ok(text.includes(`'${app}'`), `application condition '${app}' is never raised`);
    assert.equal(
      (CODES[code] as { condition?: string }).condition,
      condition,
      `${code}: its condition differs from ${app}'s`,
    );
  }
  assert.equal(
    documentedApps.size,
    Object.keys(APP_CONDITIONS).length,
    'docs/errors.md lists application conditions that are not registered',
  );
});

test('a stanza error carries its registered code, and reads back with it from the wire', () => {
  for (const [app, { condition, code }] of Object.entries(APP_CONDITIONS)) {
    const err = new StanzaError(condition, `m ${app}`, app as keyof typeof APP_CONDITIONS);
    assert.equal(err.code, code);
    const back = StanzaError.fromElement(parse(err.toElement().toString()) as Element);
    assert.deepEqual(
      [back.code, back.condition, back.app, back.message, back.type],
      [code, condition, app, `m ${app}`, err.type],
    );
  }
  for (const [condition, { code, type }] of Object.entries(CONDITIONS)) {
    const back = StanzaError.fromElement(
      parse(new StanzaError(condition as keyof typeof CONDITIONS, 'x').toElement().toString()) as Element,
    );
    assert.deepEqual([back.code, back.condition, back.app, back.type], [code, condition, undefined, type]);
  }
});

test('an unknown condition from the wire reads as undefined-condition with a registered code', () => {
  const el = parse(
    `<error type="bogus"><made-up xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">why</text><also-made-up xmlns="urn:cloudgate:error:1"/></error>`,
  ) as Element;
  const err = StanzaError.fromElement(el);
  assert.deepEqual(
    [err.condition, err.app, err.code, err.message, err.type],
    ['undefined-condition', undefined, 'CG_STANZA_UNDEFINED_CONDITION', 'why', 'cancel'],
  );
});

test('errors/ imports nothing of the project, and protocols/ nothing but errors/ (no import cycle with core/)', () => {
  const imports = (dir: string) =>
    sources(dir).flatMap((f) =>
      [...readFileSync(join(root, f), 'utf8').matchAll(/^(?:import|export)[^;]*? from '(\.[^']+)'/gm)].map((m) => ({
        f,
        spec: m[1],
      })),
    );
  assert.deepEqual(
    imports('errors').filter((i) => !i.spec.startsWith('./')),
    [],
    'errors/ reaches outside itself',
  );
  assert.deepEqual(
    imports('protocols').filter((i) => !i.spec.startsWith('./') && i.spec !== '../errors/index.js'),
    [],
    'protocols/ imports more than errors/',
  );
});
