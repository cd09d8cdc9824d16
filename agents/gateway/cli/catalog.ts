/**
 * `contexts`, `context put|get|clone`, `clusters`, `cluster put`, `clouds`, `whoami`,
 * `pair`: what the gateway knows, from the command line.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../client.js';
import { connectionOptions, withClient, fail, type CommonOpts } from './run.js';
import { parseCount, passphraseFrom } from './deployments.js';
import { cloudsTable, clustersTable, contextLine, contextsTable, pairingText, whoamiText } from './format.js';

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export function registerCatalogCommands(program: Command): void {
  connectionOptions(
    program.command('contexts').description('list the contexts you can use (yours and public ones)'),
  ).action(async (o: CommonOpts) => {
    await withClient(o, async (gw) => {
      const cs = await gw.contexts();
      return { json: { contexts: cs }, text: contextsTable(cs) };
    });
  });

  const ctx = program
    .command('context')
    .description('store, read and clone contexts (immutable: a change is a new version)');
  connectionOptions(
    ctx
      .command('put')
      .description('store a context, or a new version of yours of that name')
      .argument('<name>', 'context name')
      .argument('<file>', 'context INI file (- for stdin)')
      .option('--public', 'visible to every user of the gateway')
      .option('--passphrase-env <VAR>', 'encrypt with the passphrase in this environment variable'),
  ).action(async (name: string, file: string, o: CommonOpts & { public?: boolean; passphraseEnv?: string }) => {
    let body: string;
    let passphrase: string | undefined;
    try {
      body = readInput(file);
      passphrase = passphraseFrom(o.passphraseEnv);
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      const c = await gw.putContext(name, body, { visibility: o.public ? 'public' : undefined, passphrase });
      const warnings = c.warnings?.length ? `\n${c.warnings.map((w) => `warning: ${w}`).join('\n')}` : '';
      return { json: { context: c }, text: `stored ${contextLine(c)}${warnings}` };
    });
  });
  connectionOptions(
    ctx
      .command('get')
      .description('print a context (the latest version unless --version)')
      .argument('<ref>', 'context name, owner/name, or id')
      .option('--version <n>', 'a given version')
      .option('--passphrase-env <VAR>', 'passphrase of an encrypted context'),
  ).action(async (ref: string, o: CommonOpts & { version?: string; passphraseEnv?: string }) => {
    let version: number | undefined;
    let passphrase: string | undefined;
    try {
      version = o.version === undefined ? undefined : parseCount(o.version, '--version');
      passphrase = passphraseFrom(o.passphraseEnv);
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      const r = await gw.getContext(ref, { version, passphrase });
      return { json: r, text: r.body.replace(/\n$/, '') };
    });
  });
  connectionOptions(
    ctx
      .command('clone')
      .description('copy a context (yours or a public one) as a new context of yours')
      .argument('<ref>', 'context to clone')
      .argument('[name]', 'name of the copy (default: the same name)'),
  ).action(async (ref: string, name: string | undefined, o: CommonOpts) => {
    await withClient(o, async (gw) => {
      const c = await gw.cloneContext(ref, name);
      return { json: { context: c }, text: `cloned into ${contextLine(c)}` };
    });
  });

  connectionOptions(program.command('clusters').description('list cluster definitions')).action(
    async (o: CommonOpts) => {
      await withClient(o, async (gw) => {
        const cs = await gw.clusters();
        return { json: { clusters: cs }, text: clustersTable(cs) };
      });
    },
  );
  const cluster = program.command('cluster').description('store cluster definitions');
  connectionOptions(
    cluster
      .command('put')
      .description('store (or replace) a cluster definition from its INI file')
      .argument('<file>', 'cluster INI file (- for stdin)'),
  ).action(async (file: string, o: CommonOpts) => {
    let definition: string;
    try {
      definition = readInput(file);
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      const c = await gw.putCluster(definition);
      return { json: { cluster: c }, text: `stored cluster ${c.name} (services: ${c.services.join(', ')})` };
    });
  });

  connectionOptions(
    program.command('clouds').description('list the clouds the gateway knows and their free capacity'),
  ).action(async (o: CommonOpts) => {
    await withClient(o, async (gw) => {
      const cs = await gw.clouds();
      return { json: { clouds: cs }, text: cloudsTable(cs) };
    });
  });

  connectionOptions(program.command('whoami').description('who the gateway thinks you are')).action(
    async (o: CommonOpts) => {
      await withClient(o, async (gw) => {
        const w = await gw.whoami();
        return { json: w, text: whoamiText(w) };
      });
    },
  );

  connectionOptions(
    program
      .command('pair')
      .description('a single-use code with which an already-running machine fetches a context')
      .argument('<context>', 'context name or id')
      .option('--version <n>', 'a given version (default: the latest)')
      .option('--ttl <seconds>', 'how long the code is valid (30-86400)'),
  ).action(async (context: string, o: CommonOpts & { version?: string; ttl?: string }) => {
    let version: number | undefined;
    let ttlS: number | undefined;
    try {
      version = o.version === undefined ? undefined : parseCount(o.version, '--version');
      ttlS = o.ttl === undefined ? undefined : parseCount(o.ttl, '--ttl');
      if (ttlS !== undefined && (ttlS < 30 || ttlS > 86400))
        throw new UsageError(`--ttl: between 30 and 86400 seconds, got ${ttlS}`);
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      const p = await gw.pairingCode(context, { version, ttlS });
      return { json: p, text: pairingText(p, context) };
    });
  });
}
