/**
 * Re-contextualization (instance Recontextualize): a running instance moves to a newer
 * context version. Only steps whose data changed since the recorded state run again
 * (context/apply.ts), the per-plugin results go back in the answer and in a ContextReport,
 * and presence carries the new version.
 *
 * A context refused before anything ran (syntax, unknown plugin, bad data) changes
 * nothing: the instance keeps its version and phase. One that fails while applying moves
 * the instance to the new version in phase `failed` — the machine now holds part of it,
 * and the report says which part. An older version than the one running is refused
 * (conflict, stale-version); the same version again re-checks and repairs.
 */
import type { Logger } from 'pino';
import type { Agent, AgentModule } from '../../core/index.js';
import { badRequest, conflict, resourceConstraint, instance as proto } from '../../protocols/index.js';
import { ContextError, parseContext, type CloudgateSection, type PluginResult } from './context/index.js';
import { refusedReport, type Contextualizer } from './contextualize.js';
import { InstanceError } from './errors.js';
import { mergeCloudgate, type Identity } from './identity.js';
import type { Lifecycle } from './lifecycle.js';

const { Recontextualize } = proto;

export interface RecontextDeps {
  identity: Identity;
  life: Lifecycle;
  contexts: Contextualizer;
  log: Logger;
  /**
   * A new context is in force (applied, fully or partly). A result it returns (a record
   * that could not be saved) is added to the report; it must not throw for such a thing.
   */
  onApplied: (section: CloudgateSection, text: string, version: number) => Promise<PluginResult | undefined>;
}

export function recontextualization(d: RecontextDeps): AgentModule {
  return {
    name: 'recontextualize',
    setup(agent: Agent) {
      agent.handle(Recontextualize, async ({ context, version }, ctx) => {
        const current = d.life.contextVersion;
        if (d.life.isContextualizing)
          throw resourceConstraint('a contextualization is in progress; try again when it is done', 'busy');
        if (version < current)
          throw conflict(`version ${version} is older than the version running (${current})`, 'stale-version');
        const log = ctx.log.child({ from: ctx.bare, version });

        let section: CloudgateSection;
        let parsed;
        try {
          parsed = parseContext(context);
          section = mergeCloudgate(d.identity.section, parsed.cloudgate, version);
        } catch (err) {
          if (err instanceof InstanceError) throw badRequest(err.message, 'identity');
          if (!(err instanceof ContextError)) throw err;
          log.warn({ err }, 'new context refused');
          const r = refusedReport(err.message);
          await d.contexts.report(agent, d.identity, version, r);
          return { version: current, ok: false, results: r.results };
        }

        const before = d.life.context;
        d.life.setContext('contextualizing');
        let r;
        try {
          r = await d.contexts.apply({ ...parsed, cloudgate: section });
        } catch (err) {
          d.life.setContext(before);
          throw err;
        }
        if (r.rejected) {
          d.life.setContext(before);
          log.warn({ results: r.results }, 'new context refused; nothing changed');
        } else {
          d.identity.section = section;
          const extra = await d.onApplied(section, context, version).catch((err: unknown) => {
            log.error({ err }, 'finishing the new context version failed');
            return undefined;
          });
          if (extra) r = { ...r, results: [...r.results, extra] };
          d.life.setContext(r.ok ? 'ready' : 'failed', version);
          log.info({ ok: r.ok }, 'moved to a new context version');
        }
        await d.contexts.report(agent, d.identity, version, r);
        return { version: d.life.contextVersion, ok: r.ok, results: r.results };
      });
    },
  };
}
