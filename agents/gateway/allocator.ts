/**
 * Asking clouds for instances and telling them to remove some. Instance rows are written
 * (state 'requested', with the request id) before the Allocate message is sent, and the
 * message goes through the agent's outbox with the request id as its message id: after a
 * restart the same request is re-sent from the rows, de-duplicated by the cloud agent by
 * id and made idempotent by the deterministic instance names `<deployment>-<service>-<n>`.
 */
import { randomBytes } from 'node:crypto';
import type { Agent, Logger } from '../../core/index.js';
import { cloud as proto } from '../../protocols/index.js';
import type { Access } from './access.js';
import type { ContextTexts } from './contexts.js';
import type { Deployment, Flavor, GatewayModel, Instance } from './model/index.js';
import type { AllocateMsg } from './wire.js';

/** The name a cloud knows an instance by: unique across the gateway's deployments. */
export const cloudName = (deploymentId: string, name: string): string => `${deploymentId}-${name}`;

/** The instance name within its deployment, from the cloud's name. */
export function instanceName(deploymentId: string, cloudSide: string): string | undefined {
  return cloudSide.startsWith(`${deploymentId}-`) ? cloudSide.slice(deploymentId.length + 1) : undefined;
}

export function flavorName(f: Flavor): string {
  return f.type === 'generic' ? f.name : `cores:${f.cores},memory:${f.memoryMb}`;
}

export class ContextUnavailableError extends Error {
  readonly code = 'CG_CONTEXT_UNAVAILABLE';
}

export function createAllocator(deps: {
  agent: Agent;
  model: GatewayModel;
  access: Access;
  texts: ContextTexts;
  log: Logger;
}) {
  const { agent, model, access, texts, log } = deps;

  const contextOf = (dep: Deployment, service: string) =>
    dep.definition.services.find((s) => s.name === service)?.context;

  /** The Allocate message for the instances created by one request, rebuilt from their rows. */
  function message(requestId: string): { to: string; msg: AllocateMsg } | undefined {
    const rows = model.instances.byRequest(requestId).filter((i) => i.state === 'requested');
    if (rows.length === 0) return undefined;
    const first = rows[0]!;
    const dep = model.deployments.require(first.deploymentId);
    const svc = dep.definition.services.find((s) => s.name === first.service);
    if (!svc) return undefined;
    const ctx = svc.context;
    const text = ctx ? texts.text({ id: ctx.ref, version: ctx.version! }) : '';
    if (text === undefined)
      throw new ContextUnavailableError(
        `the context of '${svc.name}' is encrypted and its passphrase is not in memory (deploy again with it)`,
      );
    const allow = [...new Set([agent.bare, dep.owner])];
    return {
      to: first.cloud,
      msg: {
        request_id: requestId,
        deployment: dep.id,
        service: svc.name,
        owner: dep.owner,
        groups: access.groupsOf(dep.owner),
        flavor: flavorName(svc.flavor),
        image: svc.image,
        names: rows.map((i) => cloudName(dep.id, i.name)),
        context: text,
        context_version: ctx?.version ?? 0,
        context_id: ctx?.ref,
        allow,
      },
    };
  }

  async function send(requestId: string): Promise<void> {
    const m = message(requestId);
    if (!m) return;
    await agent.sendReliable(proto.Allocate, m.to, m.msg, requestId);
  }

  return {
    /** Creates `count` instances of `service` on `cloud` and asks the cloud for them. */
    async allocate(
      dep: Deployment,
      service: string,
      cloud: string,
      count: number,
      opts: { replica?: boolean } = {},
    ): Promise<Instance[]> {
      const ctx = contextOf(dep, service);
      if (ctx && texts.text({ id: ctx.ref, version: ctx.version! }) === undefined) {
        throw new ContextUnavailableError(
          `the context of '${service}' is encrypted and its passphrase is not in memory (deploy again with it)`,
        );
      }
      const requestId = `a-${randomBytes(8).toString('hex')}`;
      const rows = model.transaction(() =>
        Array.from({ length: count }, () =>
          model.instances.add({
            deploymentId: dep.id,
            service,
            cloud,
            replica: opts.replica ?? false,
            requestId,
            ...(ctx ? { context: { id: ctx.ref, version: ctx.version! } } : {}),
          }),
        ),
      );
      log.info({ deployment: dep.id, service, cloud, count, requestId }, 'allocating');
      await send(requestId);
      return rows;
    },
    /** Re-sends every request with instances still waiting for their cloud's answer. */
    async resendRequested(): Promise<void> {
      const ids = new Set(
        model.instances
          .inStates(['requested'])
          .map((i) => i.requestId)
          .filter((r): r is string => !!r),
      );
      for (const id of ids) {
        try {
          await send(id);
        } catch (err) {
          if (!(err instanceof ContextUnavailableError)) throw err;
          for (const i of model.instances.byRequest(id)) {
            if (i.state === 'requested')
              model.instances.transition(i.id, 'failed', {
                reason: err.message,
                message: `${i.name} failed: ${err.message}`,
              });
          }
        }
      }
    },
    /** Asks `cloud` to remove instances of a deployment by name (all of them with `names` empty). */
    async terminate(dep: Deployment, cloud: string, names: readonly string[]): Promise<void> {
      const requestId = `t-${randomBytes(8).toString('hex')}`;
      log.info({ deployment: dep.id, cloud, names, requestId }, 'terminating');
      await agent.sendReliable(
        proto.Terminate,
        cloud,
        {
          request_id: requestId,
          deployment: dep.id,
          owner: dep.owner,
          names: names.map((n) => cloudName(dep.id, n)),
        },
        requestId,
      );
    },
  };
}

export type Allocator = ReturnType<typeof createAllocator>;
