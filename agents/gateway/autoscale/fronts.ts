/**
 * The autoscaling requests of each front over the one control (control.ts): the typed
 * IQ `autoscale` and the chat command `autoscale`, plus the lines `status <deployment>`
 * shows.
 */
import { ChatError, type ChatCommand } from '../../../core/index.js';
import { InvalidError, type Deployment } from '../model/index.js';
import type { AutoscaleUseCases, AutoscaleView } from './control.js';

export type AutoscaleAction = 'show' | 'pause' | 'resume' | 'set';

/** The typed request: `service` for every action but show, `policy` only for set. */
export function autoscaleRequest(
  c: AutoscaleUseCases,
  user: string,
  q: { deployment: string; action: AutoscaleAction; service?: string; policy?: string },
): AutoscaleView[] {
  if (q.action === 'show')
    return c.show(user, q.deployment).filter((v) => q.service === undefined || v.service === q.service);
  if (q.service === undefined) throw new InvalidError(`service: required for ${q.action}`, 'service');
  if (q.action === 'set') {
    if (q.policy === undefined)
      throw new InvalidError(
        'policy: required for set (key = value lines of an [autoscale.<service>] section)',
        'policy',
      );
    return [c.set(user, q.deployment, q.service, q.policy)];
  }
  if (q.policy !== undefined) throw new InvalidError(`policy: only for set, not ${q.action}`, 'policy');
  return [q.action === 'pause' ? c.pause(user, q.deployment, q.service) : c.resume(user, q.deployment, q.service)];
}

export function formatViews(views: readonly AutoscaleView[], indent = ''): string[] {
  return views.map(
    (v) =>
      `${indent}autoscale ${v.service}: ${v.paused ? 'PAUSED' : 'active'}, ${v.policy}${v.note ? ` — ${v.note}` : ''}${v.last ? `\n${indent}  last decision: ${v.last}` : ''}`,
  );
}

/** Lines for `status <deployment>` (none without a policy). */
export function statusLines(c: AutoscaleUseCases, user: string, d: Deployment): string[] {
  return formatViews(c.show(user, d.id), '  ');
}

export function autoscaleChatCommand(c: AutoscaleUseCases, allow: (bare: string) => boolean): ChatCommand {
  return {
    name: 'autoscale',
    usage: 'autoscale <deployment> [<service> pause|resume|set key=value…]',
    allow,
    summary: 'show, pause, resume or set autoscaling policies',
    run: (a, ctx) => {
      const [deployment, service, action, ...rest] = a.positional;
      if (!deployment) throw new ChatError('name a deployment');
      if (!service) {
        const views = c.show(ctx.bare, deployment);
        return views.length ? formatViews(views).join('\n') : `No autoscaling policy in ${deployment}.`;
      }
      if (action !== 'pause' && action !== 'resume' && action !== 'set')
        throw new ChatError(`say pause, resume or set after the service${action ? `, not '${action}'` : ''}`);
      if (action === 'set' && !rest.length)
        throw new ChatError('set needs key=value pairs (policy=target metric=load1 target=0.7 …)');
      const views = autoscaleRequest(c, ctx.bare, {
        deployment,
        action,
        service,
        ...(action === 'set' ? { policy: rest.join('\n') } : {}),
      });
      return formatViews(views).join('\n');
    },
  };
}
