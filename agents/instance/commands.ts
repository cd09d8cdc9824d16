/**
 * The instance's commands (urn:cloudgate:instance:1): run a script, drain, shut down,
 * status. Re-contextualization lives in recontext.ts. Every request of the namespace is
 * accepted only from a JID the context's `allow` names (DESIGN.md: an instance agent obeys
 * only the JIDs its context names); anyone else gets not-authorized naming the sender.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Logger } from 'pino';
import type { Agent, AgentModule } from '../../core/index.js';
import { StanzaError, notAuthorized, instance as proto } from '../../protocols/index.js';
import { runScript, underRoot, writeAtomic } from './context/index.js';
import type { Identity } from './identity.js';
import type { Lifecycle } from './lifecycle.js';
import { METRICS_FILE } from './metrics.js';

const { NS_INSTANCE, RunScript, Drain, Shutdown, InstanceStatus } = proto;

export const RUN_DIR = '/var/lib/cloudgate/run';
const DEFAULT_RUN_TIMEOUT_S = 3600;
/**
 * The tail of each stream sent back. Both travel in one stanza, and the server caps a
 * stanza at 1 MiB (max_stanza_size) after XML escaping, which can grow text fourfold.
 */
const KEEP_BYTES = 128 * 1024;

export interface CommandDeps {
  identity: Identity;
  life: Lifecycle;
  root: string;
  log: Logger;
  /** Variables for scripts: the context's [environment]. */
  env: () => Record<string, string>;
  /** Asked to shut down: called after the reply is on its way. */
  shutdown: (reason: string) => void;
}

export function instanceCommands(d: CommandDeps): AgentModule {
  return {
    name: 'instance-commands',
    setup(agent: Agent) {
      agent.filterRequests('instance-allow', 10, async (ctx, next) => {
        if (ctx.def.request.ns === NS_INSTANCE && !d.identity.allows(ctx.bare)) {
          throw notAuthorized(
            `${ctx.bare} may not command this instance (not in its context's allow list)`,
            'unauthorized-sender',
          );
        }
        await next();
      });

      agent.handle(RunScript, async ({ script, timeout_s }, ctx) => {
        if (d.life.isDraining)
          throw new StanzaError('not-allowed', 'this instance is draining: it takes no new work', 'draining');
        const done = d.life.beginWork();
        const file = underRoot(d.root, `${RUN_DIR}/${Date.now()}-${randomBytes(4).toString('hex')}.sh`);
        try {
          await writeAtomic(file, script, { mode: 0o700 });
          const timeoutMs = (timeout_s ?? DEFAULT_RUN_TIMEOUT_S) * 1000;
          const env = {
            ...process.env,
            ...d.env(),
            CLOUDGATE_ROOT: d.root,
            CLOUDGATE_INSTANCE_ID: d.identity.instanceId,
            CLOUDGATE_CONTEXT_VERSION: String(d.life.contextVersion),
            CLOUDGATE_METRICS_FILE: underRoot(d.root, METRICS_FILE),
          };
          const r = await runScript(file, { cwd: d.root, env, timeoutMs, keepBytes: KEEP_BYTES });
          // Shell conventions: 124 for a timeout (coreutils timeout), 128+n for signal n.
          const exit = r.exitCode ?? (r.timedOut ? 124 : 128 + signalNumber(r.signal));
          const stderr = r.timedOut ? `${r.stderr}\n[cloudgate: timed out after ${timeoutMs / 1000} s]\n` : r.stderr;
          ctx.log.info({ from: ctx.bare, exitCode: exit, ms: r.durationMs }, 'script run on request');
          return { exit_code: exit, stdout: r.stdout, stderr };
        } finally {
          await fs.rm(file, { force: true });
          done();
        }
      });

      agent.handle(Drain, (_req, ctx) => {
        const idle = d.life.drain();
        ctx.log.info({ from: ctx.bare, idle }, 'draining');
        return { idle };
      });

      agent.handle(Shutdown, ({ reason }, ctx) => {
        const why = reason ?? `requested by ${ctx.bare}`;
        ctx.log.info({ from: ctx.bare, reason: why }, 'shutting down');
        // The reply is sent when this handler returns; stop only after it left.
        setTimeout(() => d.shutdown(why), 100);
        return {};
      });

      agent.chat.add({
        name: 'status',
        usage: 'status',
        summary: 'phase, context version and whether a script runs',
        allow: (bare) => d.identity.allows(bare),
        run: () => {
          const s = d.life.snapshot();
          return `${d.identity.instanceId}: ${s.phase}, context version ${s.contextVersion}${s.busy ? ', running a script' : ''}`;
        },
      });

      agent.handle(InstanceStatus, () => {
        const s = d.life.snapshot();
        return {
          instance_id: d.identity.instanceId,
          phase: s.phase,
          context_version: s.contextVersion,
          busy: s.busy,
          uptime_s: Math.floor((Date.now() - d.life.startedAt) / 1000),
          allowed: d.identity.section.allow.join(' ').slice(0, 4096) || undefined,
        };
      });
    },
  };
}

function signalNumber(name: string | null): number {
  return (name && (osConstants.signals as Record<string, number>)[name]) || 0;
}
