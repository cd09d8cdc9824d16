#!/usr/bin/env node
/**
 * Dependency review that needs no registry audit service: from package.json, the lock
 * file and node_modules it lists each direct dependency (range, installed version,
 * licence, repository, how many packages it brings) and every package of the tree that
 * runs an install script, then checks docs/dependencies.md against them: each direct
 * dependency must have a row there, and each install script must be named there, so a
 * new dependency or a new install script cannot arrive unreviewed.
 *
 *   node scripts/deps-review.mjs [--root DIR] [--json]
 *
 * Exit 0: reviewed; 1: something is not reviewed (each named); 2: bad input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`deps-review: cannot read ${file}: ${err.message}`);
    process.exit(2);
  }
}

/** Every package the lock file reaches from `name` (itself included), following dependency edges. */
function closure(lock, name) {
  const seen = new Set();
  const walk = (from, dep) => {
    // Node's resolution: nearest node_modules up from the requiring package.
    let dir = from;
    for (;;) {
      const key = `${dir ? `${dir}/` : ''}node_modules/${dep}`;
      if (lock.packages[key]) {
        if (seen.has(key)) return;
        seen.add(key);
        const p = lock.packages[key];
        for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) walk(key, d);
        return;
      }
      if (!dir) return;
      const i = dir.lastIndexOf('/node_modules/');
      dir = i < 0 ? '' : dir.slice(0, i);
    }
  };
  walk('', name);
  return seen;
}

export function review(root) {
  const pkg = readJson(join(root, 'package.json'));
  const lock = readJson(join(root, 'package-lock.json'));
  const docFile = join(root, 'docs', 'dependencies.md');
  const doc = existsSync(docFile) ? readFileSync(docFile, 'utf8') : '';
  const direct = [
    ...Object.entries(pkg.dependencies ?? {}).map(([name, range]) => ({ name, range, dev: false })),
    ...Object.entries(pkg.devDependencies ?? {}).map(([name, range]) => ({ name, range, dev: true })),
  ];
  const deps = direct.map(({ name, range, dev }) => {
    const locked = lock.packages?.[`node_modules/${name}`];
    const installed = existsSync(join(root, 'node_modules', name, 'package.json'))
      ? readJson(join(root, 'node_modules', name, 'package.json'))
      : undefined;
    const tree = closure(lock, name);
    const repo = installed?.repository;
    return {
      name,
      range,
      dev,
      locked: locked?.version ?? null,
      installed: installed?.version ?? null,
      license: locked?.license ?? installed?.license ?? installed?.licenses?.map((l) => l.type).join(' OR ') ?? null,
      repository: (typeof repo === 'string' ? repo : repo?.url) ?? null,
      packages: tree.size,
      installScripts: [...tree]
        .filter((k) => lock.packages[k].hasInstallScript)
        .map((k) => k.replace(/^.*node_modules\//, '')),
    };
  });
  const problems = [];
  for (const d of deps) {
    if (!d.locked) problems.push(`${d.name}: not in package-lock.json (run npm install and review the lock file)`);
    if (d.installed && d.locked && d.installed !== d.locked)
      problems.push(`${d.name}: node_modules has ${d.installed}, the lock file ${d.locked}`);
    if (!new RegExp(`^\\|\\s*\`${d.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\``, 'm').test(doc))
      problems.push(`${d.name}: no row in docs/dependencies.md (purpose, maintainers, install scripts)`);
  }
  const scripts = [...new Set(deps.flatMap((d) => d.installScripts))].sort();
  for (const s of scripts) {
    if (!doc.includes(`install script: \`${s}\``))
      problems.push(
        `${s}: runs an install script that docs/dependencies.md does not name ("install script: \`${s}\`")`,
      );
  }
  return { deps, installScripts: scripts, problems };
}

function main(argv) {
  let root = process.cwd();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root' && argv[i + 1]) root = resolve(argv[++i]);
    else if (argv[i] === '--json') json = true;
    else {
      console.error(`deps-review: unknown argument '${argv[i]}' (use --root DIR, --json)`);
      process.exit(2);
    }
  }
  const r = review(root);
  if (json) console.log(JSON.stringify(r, null, 2));
  else {
    console.log('| dependency | range | locked | licence | packages | install scripts in its tree |');
    console.log('|---|---|---|---|---|---|');
    for (const d of r.deps)
      console.log(
        `| ${d.name}${d.dev ? ' (dev)' : ''} | ${d.range} | ${d.locked} | ${d.license} | ${d.packages} | ${d.installScripts.join(', ') || '-'} |`,
      );
    for (const p of r.problems) console.error(`not reviewed: ${p}`);
    if (!r.problems.length)
      console.log(
        `\n${r.deps.length} direct dependencies reviewed; install scripts: ${r.installScripts.join(', ') || 'none'}`,
      );
  }
  process.exit(r.problems.length ? 1 : 0);
}

main(process.argv.slice(2));
