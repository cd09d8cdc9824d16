/** Chat commands of the marketplace (market.ts): publish, unpublish, market, vote, clone, deploy-entry, pair-entry. */
import { ChatError, type Agent } from '../../core/index.js';
import type { Access } from './access.js';
import { flagValue as str, named } from './chat-args.js';
import type { MarketEntry } from './market.js';
import type { MarketUseCases } from './market-service.js';

const line = (e: MarketEntry) =>
  `${e.id}  ${e.name} ${e.kind === 'cluster' ? '(cluster)' : `v${e.contextVersion}`} by ${e.owner}  rank ${e.rank} (${e.votes} vote${e.votes === 1 ? '' : 's'})${e.tags.length ? `  [${e.tags.join(' ')}]` : ''}${e.encrypted ? '  (encrypted)' : ''}\n    ${e.summary}`;

export function addMarketChat({
  agent,
  market,
  access,
}: {
  agent: Agent;
  market: MarketUseCases;
  access: Access;
}): void {
  const allow = (bare: string) => access.mayUse(bare);
  const chat = agent.chat;

  chat.add({
    name: 'publish',
    usage: 'publish <context> | --cluster <name>  --summary "<one line>" [--tags a,b] [--description "<text>"]',
    summary: 'share one of your contexts (its newest version) or cluster definitions in the marketplace',
    allow,
    run: (a, ctx) => {
      const context = a.positional[0];
      const cluster = str(a.flags.cluster, 'cluster');
      if ((!context && !cluster) || a.positional.length > 1 || (context && cluster))
        throw new ChatError('name one of your contexts, or --cluster and one of your clusters');
      const summary = str(a.flags.summary, 'summary');
      if (!summary) throw new ChatError('--summary is required');
      const e = market.publish(ctx.bare, {
        ...(cluster ? { cluster } : { context }),
        summary,
        description: str(a.flags.description, 'description'),
        tags: (str(a.flags.tags, 'tags') ?? '').split(','),
      });
      return `Published ${e.kind === 'cluster' ? `cluster ${e.name}` : `${e.name} v${e.contextVersion}`} as ${e.id}.`;
    },
  });

  chat.add({
    name: 'unpublish',
    usage: 'unpublish <entry>',
    summary: 'remove your entry from the marketplace',
    allow,
    run: (a, ctx) => {
      const id = named(a, 'an entry');
      market.unpublish(ctx.bare, id);
      return `Unpublished ${id}.`;
    },
  });

  chat.add({
    name: 'market',
    usage: 'market [words] [+tag] [-tag] [--page N]',
    summary: 'search the marketplace: words, +tag required, -tag excluded',
    allow,
    run: (a, ctx) => {
      const p = str(a.flags.page, 'page');
      if (p !== undefined && !/^[1-9]\d{0,5}$/.test(p)) throw new ChatError('--page must be a whole number from 1');
      const r = market.search(ctx.bare, { q: a.positional.join(' '), page: p === undefined ? 1 : Number(p) });
      if (r.total === 0) return 'Nothing in the marketplace matches.';
      if (r.entries.length === 0) return `Page ${r.page} is past the last one (${r.pages}).`;
      return `${r.total} entr${r.total === 1 ? 'y' : 'ies'}, page ${r.page} of ${r.pages}:\n${r.entries.map(line).join('\n')}`;
    },
  });

  chat.add({
    name: 'vote',
    usage: 'vote <entry> up|down|clear',
    summary: 'rank a marketplace entry (one vote each, changeable)',
    allow,
    run: (a, ctx) => {
      const [id, how] = a.positional;
      if (!id || (how !== 'up' && how !== 'down' && how !== 'clear'))
        throw new ChatError('name an entry and up, down or clear');
      const e = market.vote(ctx.bare, id, how);
      return `${e.id} now ranks ${e.rank} (${e.votes} vote${e.votes === 1 ? '' : 's'}).`;
    },
  });

  chat.add({
    name: 'clone',
    usage: 'clone <entry> [name]',
    summary: 'copy a marketplace entry into a context (or cluster definition) of your own',
    allow,
    run: (a, ctx) => {
      const [id, name] = a.positional;
      if (!id) throw new ChatError('name an entry');
      const c = market.clone(ctx.bare, id, name);
      return c.kind === 'cluster'
        ? `Cloned ${id} into your cluster ${c.cluster.name} (services: ${c.cluster.definition.services.map((s) => s.name).join(', ')}); 'deploy ${c.cluster.name}' starts it.`
        : `Cloned ${id} into your context ${c.context.name} (${c.context.id}).`;
    },
  });

  chat.add({
    name: 'deploy-entry',
    usage: 'deploy-entry <entry> [--<service> N]… [--passphrase P]',
    summary: 'deploy a cluster from the marketplace (as your cluster of its name, cloned on first use)',
    allow,
    run: async (a, ctx) => {
      const id = a.positional[0];
      if (!id || a.positional.length > 1) throw new ChatError('name one marketplace entry');
      const counts: Record<string, number> = {};
      let passphrase: string | undefined;
      for (const [k, v] of Object.entries(a.flags)) {
        if (v === true) throw new ChatError(`--${k} needs a value`);
        if (k === 'passphrase') passphrase = v;
        else if (/^\d{1,6}$/.test(v)) counts[k] = Number(v);
        else throw new ChatError(`--${k} must be a whole number of instances, not '${v.slice(0, 16)}'`);
      }
      const r = await market.deploy(ctx.bare, id, { counts, ...(passphrase !== undefined ? { passphrase } : {}) });
      return `${r.cloned ? `Cloned ${id} into your cluster ${r.cluster.name}; d` : `D`}eployment ${r.deployment.id} of ${r.cluster.name} started. 'status ${r.deployment.id}' shows it, PubSub node deployments/${r.deployment.id} has every event.`;
    },
  });

  chat.add({
    name: 'pair-entry',
    usage: 'pair-entry <entry> [--ttl seconds]',
    summary: 'a single-use code that gives a running machine the context of a marketplace entry',
    allow,
    run: (a, ctx) => {
      const id = a.positional[0];
      if (!id || a.positional.length > 1) throw new ChatError('name one marketplace entry');
      const ttl = str(a.flags.ttl, 'ttl');
      if (ttl !== undefined && !/^\d{1,5}$/.test(ttl)) throw new ChatError('--ttl must be a number of seconds');
      const p = market.pair(ctx.bare, id, ttl === undefined ? undefined : Number(ttl));
      return `Pairing code for ${p.context} v${p.version}: ${p.code} (single use, expires ${new Date(p.expires * 1000).toISOString()}).`;
    },
  });
}
