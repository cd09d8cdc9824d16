/**
 * Allocate: a trusted requester asks for named instances on behalf of a user. Everything
 * is decided here from the configuration and the database, before the cloud is called:
 * the mapping of generic names, the ACL, name ownership, the quota and the cloud's free
 * capacity. The request and its accepted instances are recorded in one transaction (state
 * 'requested'), then the provisioner creates them; the handler returns at once, so the
 * receipt goes back quickly and a re-sent message is recognised by its request id.
 */
import type { Logger, MessageContext } from '../../core/index.js';
import { forbidden, type cloud } from '../../protocols/index.js';
import type { CloudDriver } from '../../drivers/index.js';
import type { CloudConfig } from './config.js';
import type { Catalog } from './catalog.js';
import type { Policy } from './policy.js';
import { GONE, requestKey, type CloudStore, type NewInstance } from './store.js';
import type { Provisioner } from './provisioner.js';
import type { RefusalCondition } from './errors.js';
import { contextProblem } from './userdata.js';

type AllocateMsg = ReturnType<typeof cloud.Allocate.payload.decode>;

export function admission({ config, store, catalog, policy, driver, provisioner, log, onChange }: {
  config: CloudConfig; store: CloudStore; catalog: Catalog; policy: Policy; driver: CloudDriver; provisioner: Provisioner; log: Logger;
  /** Quota usage changed (requested instances count). */
  onChange: () => void;
}) {
  /** The driver's free capacity less what is recorded but not created yet. */
  async function driverFits(size: { cores: number; memoryMb: number }, count: number): Promise<number> {
    if (!driver.features.has('capacity') || !driver.capacity) return count;
    let free;
    try { free = await driver.capacity(); } catch (err) {
      log.warn({ error: String((err as Error)?.message) }, 'capacity query failed; the cloud will decide');
      return count;
    }
    const waiting = store.requested();
    const left = (v: number | undefined, used: number, each: number) => (v === undefined || each === 0 ? count : Math.max(0, Math.floor((v - used) / each)));
    return Math.min(count,
      left(free.instances, waiting.length, 1),
      left(free.cores, waiting.reduce((s, r) => s + r.cores, 0), size.cores),
      left(free.memoryMb, waiting.reduce((s, r) => s + r.memory_mb, 0), size.memoryMb));
  }

  // Allocations are decided one at a time, in arrival order: the capacity query awaits the
  // driver, and without the queue a later message carrying the same request id (a re-send
  // under a new stanza id) could be recorded before the first one.
  let queue: Promise<unknown> = Promise.resolve();
  return function onAllocate(msg: AllocateMsg, ctx: MessageContext): Promise<void> {
    const run = queue.then(() => decide(msg, ctx));
    queue = run.catch(() => undefined);
    return run;
  };

  async function decide(msg: AllocateMsg, ctx: MessageContext): Promise<void> {
    if (!config.requesters.has(ctx.bare)) throw forbidden(`${ctx.bare} is not a requester of cloud ${config.name}`, 'unauthorized-sender');
    const key = requestKey(ctx.bare, msg.request_id);
    if (store.request(key)) {
      log.debug({ requestId: msg.request_id }, 'allocate seen before; nothing to do');
      return;
    }
    const owner = msg.owner.toLowerCase();
    const groups = msg.groups ?? [];
    const names = [...new Set(msg.names)];
    let refused: string[] = [];
    let condition: RefusalCondition | undefined;
    let reason: string | undefined;
    const refuse = (which: string[], c: RefusalCondition, why: string) => {
      if (which.length === 0) return;
      refused.push(...which);
      condition ??= c;
      reason = reason ? `${reason}; ${why}` : why;
    };

    const mappingProblem = catalog.check(msg.flavor, msg.image) ?? contextProblem(msg.context);
    if (mappingProblem) refuse(names, 'invalid-field', mappingProblem);
    else if (!policy.allowed(owner, groups)) refuse(names, 'not-in-acl', `${owner} may not use cloud ${config.name} (not in its ACL)`);

    let fresh = names.filter((n) => !refused.includes(n));
    // Names are idempotent: one that is ours already (same requester and deployment) is
    // accepted again, not re-created; another requester's is taken, even under the same
    // deployment name (it must not learn of it, or be told it holds it).
    const taken = fresh.filter((n) => {
      const r = store.instance(n);
      return r && (r.deployment !== msg.deployment || r.owner !== owner || r.requester !== ctx.bare || GONE.includes(r.state));
    });
    refuse(taken, 'name-taken', `name(s) ${taken.join(', ')} already used on cloud ${config.name} by another or a terminated instance`);
    fresh = fresh.filter((n) => !taken.includes(n) && !store.instance(n));

    const flavor = catalog.flavor(msg.flavor);
    if (flavor && fresh.length > 0) {
      const size = { cores: flavor.cores, memoryMb: flavor.memoryMb };
      const capacity = await driverFits(size, fresh.length);
      const fit = policy.fit(owner, groups, size, fresh.length);
      if (fit.fits < fresh.length) refuse(fresh.slice(fit.fits), 'quota-exceeded', `quota exceeded: ${fit.limit}`);
      fresh = fresh.slice(0, fit.fits);
      if (capacity < fresh.length) refuse(fresh.slice(capacity), 'capacity', `cloud ${config.name} has no free capacity for more than ${capacity} more ${msg.flavor} instance(s)`);
      fresh = fresh.slice(0, capacity);
    }

    const instances: NewInstance[] = fresh.map((name) => ({ name, flavor: msg.flavor, image: msg.image, cores: flavor!.cores, memory_mb: flavor!.memoryMb }));
    refused = [...new Set(refused)];
    store.addRequest({
      request_id: msg.request_id, requester: ctx.bare, deployment: msg.deployment, service: msg.service, owner, groups,
      flavor: msg.flavor, image: msg.image, names, context: instances.length ? msg.context : '', context_version: msg.context_version,
      context_id: msg.context_id ?? null, allow: msg.allow, refused, condition: condition ?? null, reason: reason ?? null,
    }, instances);
    log.info({ requestId: msg.request_id, deployment: msg.deployment, owner, accepted: instances.length, refused: refused.length, condition }, 'allocate recorded');
    if (instances.length) onChange();
    void provisioner.kick();
  }
}
