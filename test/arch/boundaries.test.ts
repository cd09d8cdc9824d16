/**
 * Folder boundaries (scripts/imports.mjs): other folders are reached only through their
 * index.ts, folders form no import cycle, and the package exports only those faces.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** This file runs as dist/test/arch/boundaries.test.js. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Bypass {
  file: string;
  spec: string;
  to: string;
  kind: string;
}
interface Analysis {
  bypasses: Bypass[];
  cycles: string[];
  stale: string[];
  edges: Map<string, number>;
}
interface ImportsScript {
  analyse(root: string): Analysis;
  violations(a: Analysis): { bypasses: Bypass[]; cycles: string[] };
}
const script = (await import(pathToFileURL(join(ROOT, 'scripts', 'imports.mjs')).href)) as ImportsScript;

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cg-arch-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), text);
  }
  return root;
}

describe('folder boundaries', () => {
  it('the sources import other folders only through their index.ts and form no cycle', () => {
    const a = script.analyse(ROOT);
    const bad = script.violations(a);
    assert.deepEqual(
      bad.bypasses.map((b) => `${b.file}: ${b.spec}`),
      [],
    );
    assert.deepEqual(bad.cycles, []);
    assert.deepEqual(a.stale, [], 'an entry of KNOWN in scripts/imports.mjs no longer matches an import: remove it');
  });

  it('reports an import past a face and a cycle between folders', () => {
    const root = tree({
      'core/index.ts': "export { a } from './a.js';\n",
      'core/a.ts': "import { b } from '../protocols/index.js';\nexport const a = b;\n",
      'protocols/index.ts': "export { b } from './b.js';\n",
      'protocols/b.ts': "import { x } from '../core/x.js';\nexport const b = x;\n",
      'core/x.ts': 'export const x = 1;\n',
      'agents/demo/main.ts': "import { b } from '../../protocols/b.js';\nexport const c = b;\n",
      'agents/demo/side.ts': "import '../../core/x.js';\n",
      'test/unit.test.ts': "import { x } from '../core/x.js';\n",
    });
    try {
      const a = script.analyse(root);
      const bad = script.violations(a);
      assert.deepEqual(bad.bypasses.map((b) => `${b.file}: ${b.spec}`).sort(), [
        'agents/demo/main.ts: ../../protocols/b.js',
        'agents/demo/side.ts: ../../core/x.js',
        'protocols/b.ts: ../core/x.js',
      ]);
      assert.deepEqual(bad.cycles, ['core <-> protocols']);
      // A unit test may import the module it tests.
      assert.deepEqual(
        a.bypasses.filter((b) => b.kind === 'test').map((b) => b.file),
        ['test/unit.test.ts'],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the package exports the faces and nothing behind them', async () => {
    // The package imports itself by name, through package.json "exports".
    const load = (spec: string) => import(spec) as Promise<Record<string, unknown>>;
    const core = await load('cloudgate/core');
    assert.equal(typeof core.createLogger, 'function');
    const protocols = await load('cloudgate/protocols');
    assert.equal(typeof protocols.defineRequest, 'function');
    const drivers = await load('cloudgate/drivers');
    assert.equal(typeof drivers.driverNames, 'function');
    for (const inner of ['cloudgate/core/run.js', 'cloudgate/dist/core/store.js', 'cloudgate/drivers/shared']) {
      await assert.rejects(
        load(inner),
        (e: NodeJS.ErrnoException) => e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED',
        inner,
      );
    }
  });
});
