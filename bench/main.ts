/**
 * Benchmark dispatcher: `node dist/bench/main.js <name> [--flag value]…`.
 * A benchmark is a module bench/<name>.ts exporting `bench: Bench`; it is found by its
 * name, so adding one needs no change here. Each prints ONE JSON object on stdout
 * (progress goes to stderr), so runs can be collected and compared by machines.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFlags, type Bench } from './lib.js';
import { wordsToIndexes, type WordFlags } from './lib/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const NAME = /^[a-z][a-z0-9-]*$/;

async function load(name: string): Promise<Bench | undefined> {
  if (!NAME.test(name)) return undefined;
  try {
    const mod = (await import(`./${name}.js`)) as { bench?: Bench };
    return mod.bench?.name === name ? mod.bench : undefined;
  } catch (err) {
    if (
      (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
      String((err as Error).message).includes(`${name}.js`)
    )
      return undefined;
    throw err;
  }
}

async function available(): Promise<Bench[]> {
  const names = readdirSync(here)
    .filter((f) => f.endsWith('.js') && f !== 'main.js' && f !== 'lib.js')
    .map((f) => f.slice(0, -3));
  const out: Bench[] = [];
  for (const n of names.sort()) {
    const b = await load(n).catch(() => undefined);
    if (b) out.push(b);
  }
  return out;
}

async function usage(): Promise<string> {
  const lines = ['usage: node dist/bench/main.js <benchmark> [--flag value]…', '', 'benchmarks:'];
  for (const b of await available()) {
    lines.push(`  ${b.name.padEnd(10)} ${b.summary}`);
    for (const [flag, help] of Object.entries(b.flags)) lines.push(`      --${flag.padEnd(12)} ${help}`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stderr.write(`${await usage()}\n`);
    return name ? 0 : 2;
  }
  const bench = await load(name);
  if (!bench) {
    process.stderr.write(`unknown benchmark '${name}'\n${await usage()}\n`);
    return 2;
  }
  let flags: Record<string, number>;
  try {
    flags = parseFlags(wordsToIndexes(bench as Bench & WordFlags, rest), Object.keys(bench.flags));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const result = await bench.run(flags);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // A run that failed part-way still prints what it measured, with an `error` field.
  return result.error === undefined ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`benchmark failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
