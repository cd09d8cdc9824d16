/** `market`, `publish`, `unpublish`, `vote`, `clone`, `deploy-entry`, `pair-entry`: the marketplace from the command line. */
import type { Command } from 'commander';
import { UsageError, type MarketEntryView } from '../client.js';
import { connectionOptions, withClient, fail, type CommonOpts } from './run.js';
import { deployInputOptions, deployInputs, parseCount, type DeployInputOpts } from './deployments.js';

export function entryText(e: MarketEntryView): string {
  const what = e.kind === 'cluster' ? '(cluster)' : `v${e.version}`;
  return `${e.id}  ${e.name} ${what} by ${e.owner}  rank ${e.rank} (${e.votes} vote${e.votes === 1 ? '' : 's'})${e.tags.length ? `  [${e.tags.join(' ')}]` : ''}${e.encrypted ? '  (encrypted)' : ''}\n    ${e.summary}`;
}

const VOTES = ['up', 'down', 'clear'] as const;

export function registerMarketCommands(program: Command): void {
  connectionOptions(
    program
      .command('market')
      .description(
        'search the marketplace: words match names, summaries and descriptions, +tag is required, -tag excluded',
      )
      .argument('[words...]', 'words, +tag, -tag (or put -- before the words)')
      .option('--page <n>', 'page of results (10 each), from 1')
      .allowUnknownOption(true),
  ).action(async (words: string[], o: CommonOpts & { page?: string }) => {
    let page: number | undefined;
    try {
      if (o.page !== undefined && !/^[1-9]\d{0,5}$/.test(o.page))
        throw new UsageError(`--page: a whole number from 1, got '${o.page}'`);
      page = o.page === undefined ? undefined : Number(o.page);
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      const r = await gw.market(words.join(' '), page);
      const text =
        r.total === 0
          ? 'nothing in the marketplace matches'
          : `${r.total} entr${r.total === 1 ? 'y' : 'ies'}, page ${r.page} of ${r.pages}${r.entries.length ? `\n${r.entries.map(entryText).join('\n')}` : ''}`;
      return { json: r, text };
    });
  });

  connectionOptions(
    program
      .command('publish')
      .description(
        'share one of your contexts (its newest version), or with --cluster one of your cluster definitions, in the marketplace',
      )
      .argument('[context]', 'your context (name or id)')
      .option('--cluster <name>', 'one of your cluster definitions instead of a context')
      .requiredOption('--summary <text>', 'one line, at most 140 characters')
      .option('--description <text>', 'what it does, at most 4000 characters')
      .option('--tags <a,b>', 'comma-separated tags (lower-case letters, digits, . _ -)'),
  ).action(
    async (
      context: string | undefined,
      o: CommonOpts & { cluster?: string; summary: string; description?: string; tags?: string },
    ) => {
      try {
        if ((context === undefined) === (o.cluster === undefined))
          throw new UsageError('name one of your contexts, or --cluster and one of your clusters');
      } catch (err) {
        fail(o, err);
      }
      await withClient(o, async (gw) => {
        const e = await gw.publish({
          ...(context !== undefined ? { context } : { cluster: o.cluster! }),
          summary: o.summary,
          ...(o.description !== undefined ? { description: o.description } : {}),
          ...(o.tags !== undefined
            ? {
                tags: o.tags
                  .split(',')
                  .map((t) => t.trim())
                  .filter(Boolean),
              }
            : {}),
        });
        return {
          json: { entry: e },
          text: `published ${e.kind === 'cluster' ? `cluster ${e.name}` : `${e.name} v${e.version}`} as ${e.id}`,
        };
      });
    },
  );

  connectionOptions(
    program
      .command('unpublish')
      .description('take your entry out of the marketplace (the context stays)')
      .argument('<entry>', 'marketplace entry id'),
  ).action(async (id: string, o: CommonOpts) => {
    await withClient(o, async (gw) => {
      await gw.unpublish(id);
      return { json: { unpublished: id }, text: `unpublished ${id}` };
    });
  });

  connectionOptions(
    program
      .command('vote')
      .description("rank someone else's entry (one vote each, changeable)")
      .argument('<entry>', 'marketplace entry id')
      .argument('<vote>', VOTES.join(' | ')),
  ).action(async (id: string, value: string, o: CommonOpts) => {
    try {
      if (!(VOTES as readonly string[]).includes(value))
        throw new UsageError(`<vote>: expected ${VOTES.join(', ')}, got '${value}'`);
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      const e = await gw.vote(id, value as (typeof VOTES)[number]);
      return { json: { entry: e }, text: `${e.id} now ranks ${e.rank} (${e.votes} vote${e.votes === 1 ? '' : 's'})` };
    });
  });

  connectionOptions(
    program
      .command('clone')
      .description('copy a marketplace entry into a context (or cluster definition) of yours')
      .argument('<entry>', 'marketplace entry id')
      .argument('[name]', 'name of the new context'),
  ).action(async (id: string, name: string | undefined, o: CommonOpts) => {
    await withClient(o, async (gw) => {
      const c = await gw.cloneEntry(id, name);
      const text = c.cluster
        ? `cloned ${id} into your cluster ${c.cluster.name} (services: ${c.cluster.services.join(', ')})`
        : `cloned ${id} into your context ${c.context!.name} (${c.context!.id})`;
      return { json: c, text };
    });
  });

  connectionOptions(
    deployInputOptions(
      program
        .command('deploy-entry')
        .description('deploy a cluster from the marketplace, as your cluster of its name (cloned on first use)')
        .argument('<entry>', 'marketplace entry id of a cluster'),
    ),
  ).action(async (id: string, o: CommonOpts & DeployInputOpts) => {
    const inputs = deployInputs(o);
    await withClient(o, async (gw) => {
      const r = await gw.deployEntry(id, inputs);
      const d = r.deployment;
      return {
        json: r,
        text: `${r.cloned ? `cloned ${id} into your cluster ${r.cluster.name}\n` : ''}deployment ${d.id} of ${d.cluster}: ${d.state}\nfollow it with: cloudgate status ${d.id}`,
      };
    });
  });

  connectionOptions(
    program
      .command('pair-entry')
      .description('a single-use code that gives a running machine the context version a marketplace entry published')
      .argument('<entry>', 'marketplace entry id of a context')
      .option('--ttl <seconds>', 'how long the code is valid (30-86400)'),
  ).action(async (id: string, o: CommonOpts & { ttl?: string }) => {
    let ttlS: number | undefined;
    try {
      ttlS = o.ttl === undefined ? undefined : parseCount(o.ttl, '--ttl');
      if (ttlS !== undefined && (ttlS < 30 || ttlS > 86400))
        throw new UsageError(`--ttl: between 30 and 86400 seconds, got ${ttlS}`);
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      const p = await gw.pairEntry(id, { ttlS });
      return {
        json: p,
        text: `pairing code for ${p.context} v${p.version}: ${p.code} (single use, expires ${new Date(p.expires * 1000).toISOString()})`,
      };
    });
  });
}
