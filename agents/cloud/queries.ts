/**
 * The request (IQ) side of the cloud protocol: discovery ("can you host this?", answered
 * from ACL, mapping, quota and capacity without creating anything), listing, information,
 * and token renewal for the instances this agent owns. Only configured requesters may
 * discover, list and read information; only an instance of ours may renew its token.
 */
import type { Agent, RequestContext } from '../../core/index.js';
import { cloud, forbidden } from '../../protocols/index.js';
import type { CloudDriver } from '../../drivers/index.js';
import type { CloudConfig } from './config.js';
import type { Catalog } from './catalog.js';
import type { Policy } from './policy.js';
import type { AdmissionGate } from './decision.js';
import { GONE, type CloudStore } from './store.js';
import type { Reporter } from './states.js';
import { instanceJid, type Tokens } from './userdata.js';

export function queries({
  agent,
  config,
  store,
  catalog,
  policy,
  gate,
  driver,
  states,
  tokens,
}: {
  agent: Agent;
  config: CloudConfig;
  store: CloudStore;
  catalog: Catalog;
  policy: Policy;
  gate: AdmissionGate;
  driver: CloudDriver;
  states: Reporter;
  tokens: Tokens;
}) {
  const requester = (ctx: RequestContext) => {
    if (!config.requesters.has(ctx.bare))
      throw forbidden(`${ctx.bare} is not a requester of cloud ${config.name}`, 'unauthorized-sender');
  };

  agent.handle(cloud.Discover, async (q, ctx) => {
    requester(ctx);
    const owner = q.owner.toLowerCase();
    const problem = catalog.check(q.flavor, q.image);
    if (problem) return { accept: false, max: 0, reason: problem };
    const f = catalog.flavor(q.flavor)!;
    const d = await gate.decide({
      owner,
      groups: q.groups ?? [],
      flavor: q.flavor,
      size: { cores: f.cores, memoryMb: f.memoryMb },
      count: q.count,
    });
    return { accept: d.admitted >= q.count, max: d.admitted, reason: d.admitted >= q.count ? undefined : d.reason };
  });

  agent.handle(cloud.ListInstances, (q, ctx) => {
    requester(ctx);
    const rows = store.list({ deployment: q.deployment, owner: q.owner?.toLowerCase(), requester: ctx.bare });
    return { instances: rows.map((r) => states.payload(r)) };
  });

  agent.handle(cloud.CloudInfo, (_q, ctx) => {
    requester(ctx);
    const t = config.quota.total;
    const u = policy.usage();
    const s = (v: number | undefined) => (v === undefined ? 'unlimited' : String(v));
    return {
      name: config.name,
      driver: config.driver,
      features: [...driver.features],
      flavors: catalog.flavors.map((f) => ({ name: f.generic, cores: f.cores, memory_mb: f.memoryMb })),
      images: catalog.images.map((i) => i.generic),
      quota: { instances: s(t.instances), cores: s(t.cores), memory_mb: s(t.memoryMb) },
      usage: { instances: String(u.instances), cores: String(u.cores), memory_mb: String(u.memoryMb) },
    };
  });

  agent.handle(cloud.RenewToken, async (_q, ctx) => {
    const at = ctx.bare.indexOf('@');
    const row =
      ctx.bare.slice(at + 1) === config.instances.domain
        ? (store.instance(ctx.bare.slice(0, at)) ?? findByJid(ctx.bare))
        : undefined;
    if (!row || GONE.includes(row.state) || instanceJid(config, row.name) !== ctx.bare) {
      throw forbidden(`${ctx.bare} is not an instance of cloud ${config.name}`, 'not-owner');
    }
    const { token, expires } = await tokens.mint(ctx.bare);
    return { token, expires };
  });

  /** Names keep their case in the database; JIDs are lower-cased. */
  function findByJid(bare: string) {
    return store.live().find((r) => instanceJid(config, r.name) === bare);
  }
}
