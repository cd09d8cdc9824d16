// Prints the cross-folder import graph of the sources, with the imports that bypass a
// folder's public face and the cycles between folders. Exits 1 when there is a bypass or a
// cycle (imports listed in KNOWN excepted); `--json` prints the analysis as JSON instead.
//
// The rule:
// - A folder is one of errors/, core/, protocols/, images/, ejabberd/, drivers/, drivers/<name>/,
//   agents/<kind>/, or any other directory with its own index.ts (agents/gateway/model,
//   agents/instance/context, bench/lib). A file belongs to the nearest such folder above it.
// - An import from one folder into another must name the target's index.ts. That holds in
//   both directions between a folder and a nested one: agents/gateway imports
//   agents/gateway/model only through model/index.ts, and model imports from
//   agents/gateway only through agents/gateway/index.ts.
// - Folders must not form import cycles.
// - bench/ and examples/ are consumers like any user of the package: faces only.
// - test/ is a consumer too, but a unit test may import the module it tests directly, so
//   test imports past a face are counted and listed, not refused.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Imports left out of the graph and of the bypasses, each as "file: specifier" (none
// today: the base error class lives in errors/, which imports nothing of the project); an
// entry that no longer matches is reported.
export const KNOWN = [];

const SOURCE_ROOTS = [
  'errors',
  'core',
  'protocols',
  'images',
  'ejabberd',
  'drivers',
  'agents',
  'bench',
  'examples',
  'test',
];
const FOLDER_ROOTS = ['errors', 'core', 'protocols', 'images', 'ejabberd', 'drivers'];

function walk(dir, out) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The folder a project-relative file belongs to, or null for files outside any folder. */
function folderOf(root, file) {
  const parts = file.split('/');
  for (let i = parts.length - 1; i >= 1; i--) {
    const dir = parts.slice(0, i).join('/');
    if (existsSync(join(root, dir, 'index.ts'))) return dir;
    if (FOLDER_ROOTS.includes(dir)) return dir;
    if (i === 2 && (parts[0] === 'agents' || parts[0] === 'drivers')) return dir;
  }
  return null;
}

function kindOf(file) {
  const top = file.split('/')[0];
  return top === 'test' ? 'test' : top === 'bench' || top === 'examples' ? 'consumer' : 'source';
}

// `import … from`, `export … from`, `import 'x'` (side effects only) and `import('x')`.
const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;

export function analyse(root) {
  const files = [];
  for (const r of SOURCE_ROOTS) if (existsSync(join(root, r))) walk(join(root, r), files);
  const edges = new Map(); // "from -> to" => count
  const bypasses = [];
  const known = new Set();
  let crossing = 0;
  for (const abs of files) {
    const file = relative(root, abs).split(sep).join('/');
    const text = readFileSync(abs, 'utf8');
    const from = folderOf(root, file);
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith('.')) continue;
      if (KNOWN.includes(`${file}: ${spec}`)) {
        known.add(`${file}: ${spec}`);
        continue;
      }
      const target = relative(root, resolve(dirname(abs), spec.replace(/\.js$/, '.ts')))
        .split(sep)
        .join('/');
      const to = folderOf(root, target);
      if (to === null || to === from) continue;
      crossing++;
      if (from !== null && kindOf(file) === 'source' && kindOf(target) === 'source') {
        const key = `${from} -> ${to}`;
        edges.set(key, (edges.get(key) ?? 0) + 1);
      }
      if (target !== `${to}/index.ts`) bypasses.push({ file, spec, target, to, kind: kindOf(file) });
    }
  }
  return {
    files: files.length,
    crossing,
    edges,
    bypasses,
    cycles: cycles(edges),
    stale: KNOWN.filter((k) => !known.has(k)),
  };
}

/** Strongly connected groups of two or more folders, as "a <-> b <-> c" in sorted order. */
function cycles(edges) {
  const graph = new Map();
  for (const key of edges.keys()) {
    const [a, b] = key.split(' -> ');
    if (!graph.has(a)) graph.set(a, []);
    if (!graph.has(b)) graph.set(b, []);
    graph.get(a).push(b);
  }
  let index = 0;
  const idx = new Map(),
    low = new Map(),
    stack = [],
    on = new Set(),
    out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const group = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) out.push(group.sort().join(' <-> '));
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out.sort();
}

/** Bypasses and cycles that fail the check. */
export function violations(result) {
  return {
    bypasses: result.bypasses.filter((b) => b.kind !== 'test'),
    cycles: result.cycles,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const result = analyse(root);
  const bad = violations(result);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ ...result, edges: Object.fromEntries(result.edges), violations: bad }, null, 2));
  } else {
    console.log(`cross-folder import graph (${result.files} files, ${result.crossing} cross-folder imports):`);
    for (const [key, n] of [...result.edges].sort()) console.log(`  ${key}  (${n})`);
    const tests = result.bypasses.filter((b) => b.kind === 'test');
    console.log(
      `bypasses: ${bad.bypasses.length} (plus ${tests.length} from test/ into the module under test, allowed)`,
    );
    for (const b of bad.bypasses) console.log(`  ${b.file}: '${b.spec}' bypasses ${b.to}/index.ts`);
    if (process.argv.includes('--all')) for (const b of tests) console.log(`  (test) ${b.file}: '${b.spec}'`);
    console.log(`cycles: ${result.cycles.length}`);
    for (const c of result.cycles) console.log(`  ${c}`);
    console.log(`known imports left out: ${KNOWN.length - result.stale.length} of ${KNOWN.length}`);
    for (const k of result.stale) console.log(`  no longer found, remove from KNOWN: ${k}`);
  }
  process.exit(bad.bypasses.length + bad.cycles.length === 0 ? 0 : 1);
}
