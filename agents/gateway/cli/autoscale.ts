/** `autoscale`: show, pause, resume or set the autoscaling policies of a deployment. */
import type { Command } from 'commander';
import { UsageError, type AutoscalePolicyView } from '../client.js';
import { connectionOptions, withClient, fail, type CommonOpts } from './run.js';

const ACTIONS = ['pause', 'resume', 'set'] as const;

export function policiesText(list: readonly AutoscalePolicyView[]): string {
  if (!list.length) return 'no autoscaling policy';
  return list
    .map(
      (p) =>
        `${p.service}: ${p.paused ? 'PAUSED' : 'active'}, ${p.policy}${p.note ? `\n  ${p.note}` : ''}${p.last ? `\n  last decision: ${p.last}` : ''}`,
    )
    .join('\n');
}

export function registerAutoscaleCommands(program: Command): void {
  connectionOptions(
    program
      .command('autoscale')
      .description(
        'show the autoscaling policies of a deployment, or pause, resume or set one (set takes key=value pairs of an [autoscale.<service>] section)',
      )
      .argument('<id>', 'deployment id')
      .argument('[service]', 'scalable service')
      .argument('[action]', ACTIONS.join(' | '))
      .argument('[settings...]', 'for set: key=value pairs, e.g. policy=target metric=load1 target=0.7'),
  ).action(
    async (id: string, service: string | undefined, action: string | undefined, settings: string[], o: CommonOpts) => {
      let act: 'show' | (typeof ACTIONS)[number] = 'show';
      let policy: string | undefined;
      try {
        if (action !== undefined) {
          if (!(ACTIONS as readonly string[]).includes(action))
            throw new UsageError(`[action]: expected ${ACTIONS.join(', ')}, got '${action}'`);
          act = action as (typeof ACTIONS)[number];
        } else if (service !== undefined)
          throw new UsageError(`name an action after the service (${ACTIONS.join(', ')})`);
        if (act === 'set') {
          if (!settings.length) throw new UsageError('set needs key=value pairs');
          const bad = settings.find((x) => !/^[a-z_]+=.*$/.test(x));
          if (bad) throw new UsageError(`expected key=value, got '${bad}'`);
          policy = settings.join('\n');
        } else if (settings.length) throw new UsageError(`key=value pairs are only for set, not ${act}`);
      } catch (err) {
        fail(o, err);
      }
      await withClient(o, async (gw) => {
        const policies = await gw.autoscale(id, act, {
          ...(service !== undefined ? { service } : {}),
          ...(policy !== undefined ? { policy } : {}),
        });
        return { json: { policies }, text: policiesText(policies) };
      });
    },
  );
}
