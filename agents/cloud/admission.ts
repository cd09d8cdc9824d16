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
import type { CloudConfig } from './config.js';
import type { Catalog } from './catalog.js';
import type { AdmissionGate } from './decision.js';
import { GONE, requestKey, type CloudStore, type NewInstance } from './store.js';
import type { Provisioner } from './provisioner.js';
import type { RefusalCondition } from './errors.js';
import { contextProblem } from './userdata.js';

type AllocateMsg = ReturnType<typeof cloud.Allocate.payload.decode>;

export function admission({
  config,
  store,
  catalog,
  gate,
  provisioner,
  log,
  onChange,
}: {
  config: CloudConfig;
  store: CloudStore;
  catalog: Catalog;
  gate: AdmissionGate;
  provisioner: Provisioner;
  log: Logger;
  /** Quota usage changed (requested instances count). */
  onChange: () => void;
}) {
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
    if (!config.requesters.has(ctx.bare))
      throw forbidden(`${ctx.bare} is not a requester of cloud ${config.name}`, 'unauthorized-sender');
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

    const flavor = catalog.flavor(msg.flavor);
    let fresh: string[] = [];
    if (flavor && !mappingProblem) {
      // Names are idempotent: one that is ours already (same requester and deployment) is
      // accepted again, not re-created; another requester's is taken, even under the same
      // deployment name (it must not learn of it, or be told it holds it).
      const taken = names.filter((n) => {
        const r = store.instance(n);
        return (
          r &&
          (r.deployment !== msg.deployment || r.owner !== owner || r.requester !== ctx.bare || GONE.includes(r.state))
        );
      });
      fresh = names.filter((n) => !taken.includes(n) && !store.instance(n));
      const size = { cores: flavor.cores, memoryMb: flavor.memoryMb };
      const d = await gate.decide({ owner, groups, flavor: msg.flavor, size, count: fresh.length });
      if (d.condition === 'not-in-acl') {
        refuse(names, d.condition, d.reason!);
        fresh = [];
      } else {
        refuse(
          taken,
          'name-taken',
          `name(s) ${taken.join(', ')} already used on cloud ${config.name} by another or a terminated instance`,
        );
        if (d.condition) refuse(fresh.slice(d.admitted), d.condition, d.reason!);
        fresh = fresh.slice(0, d.admitted);
      }
    }

    const instances: NewInstance[] = fresh.map((name) => ({
      name,
      flavor: msg.flavor,
      image: msg.image,
      cores: flavor!.cores,
      memory_mb: flavor!.memoryMb,
    }));
    refused = [...new Set(refused)];
    store.addRequest(
      {
        request_id: msg.request_id,
        requester: ctx.bare,
        deployment: msg.deployment,
        service: msg.service,
        owner,
        groups,
        flavor: msg.flavor,
        image: msg.image,
        names,
        context: instances.length ? msg.context : '',
        context_version: msg.context_version,
        context_id: msg.context_id ?? null,
        allow: msg.allow,
        refused,
        condition: condition ?? null,
        reason: reason ?? null,
      },
      instances,
    );
    log.info(
      {
        requestId: msg.request_id,
        deployment: msg.deployment,
        owner,
        accepted: instances.length,
        refused: refused.length,
        condition,
      },
      'allocate recorded',
    );
    if (instances.length) onChange();
    void provisioner.kick();
  }
}
