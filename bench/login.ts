/**
 * login: what one password login costs (TCP, STARTTLS, SCRAM-SHA-1, resource binding,
 * stream management), for an agent and for a stock @xmpp/client logging in to the same
 * account on the same server, in turn, in the same run. Both use SCRAM-SHA-1 with the
 * same mechanism library: the stock client as shipped, the agent with the salted password
 * from one PBKDF2 call (core/xmpp/scram.ts). Wall time per login, start to stop (p50, p90),
 * and CPU per login of this process and of ejabberd. The gateway, cloud agents, the CLI
 * and people's clients log in with passwords (instance agents with tokens, over PLAIN).
 */
import { randomBytes } from 'node:crypto';
import { client as xmppClient } from '@xmpp/client';
import { Agent, createLogger } from '../core/index.js';
import { machine, percentile, progress, round, type Bench } from './lib.js';
import { withEjabberd, withoutCertificateChecks } from './lib/index.js';

export const bench: Bench = {
  name: 'login',
  summary: 'password (SCRAM-SHA-1) login time and CPU per login, against a stock @xmpp/client login',
  flags: {
    logins: 'logins of each kind measured (default 40)',
    warmup: 'logins of each kind first, not measured (default 3)',
  },
  run: (f) => run(f.logins ?? 40, f.warmup ?? 3),
};

interface Sample {
  ms: number;
  cpuMs: number;
  serverCpuMs: number;
}

const mean = (xs: number[]) => xs.reduce((n, x) => n + x, 0) / xs.length;

function stats(samples: Sample[]) {
  const ms = samples.map((s) => s.ms);
  return {
    p50_ms: round(percentile(ms, 50), 1),
    p90_ms: round(percentile(ms, 90), 1),
    cpu_ms: round(mean(samples.map((s) => s.cpuMs)), 1),
    ejabberd_cpu_ms: round(mean(samples.map((s) => s.serverCpuMs)), 1),
  };
}

async function run(logins: number, warmup: number): Promise<Record<string, unknown>> {
  // The main host without the operator's key: a host that takes JWT logins offers PLAIN only.
  return withEjabberd({ operatorJwt: false }, async (s) => {
    const username = 'login-bench';
    const password = randomBytes(12).toString('hex');
    await s.server.register(username, s.host, password);
    const timed = async (login: () => Promise<void>): Promise<Sample> => {
      const c0 = process.cpuUsage();
      const s0 = s.cpuS() ?? 0;
      const t0 = performance.now();
      await login();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      return { ms, cpuMs: (c.user + c.system) / 1000, serverCpuMs: ((s.cpuS() ?? 0) - s0) * 1000 };
    };
    const stockErrors: string[] = [];
    /** Stock logins that failed: left out of its figures, counted here. */
    const stockFailed: string[] = [];
    const log = createLogger({ level: process.env.CLOUDGATE_LOG_LEVEL ?? 'warn' });

    const ours = async () => {
      const a = new Agent({
        kind: 'bench',
        log,
        xmpp: {
          service: s.service,
          domain: s.host,
          username,
          password,
          ca: s.ca,
          resource: 'ours',
          maxStartAttempts: 1,
        },
      });
      await a.start();
      await a.stop();
    };
    const stock = async () => {
      const c = xmppClient({
        service: s.service,
        domain: s.host,
        resource: 'stock',
        // Its default of 2 s for each stream step fails logins on a loaded machine.
        timeout: 30_000,
        // Its own choice too when the server offers it; named, so the figure cannot silently become PLAIN's.
        credentials: (authenticate: (c: object, m: string) => Promise<void>) =>
          authenticate({ username, password }, 'SCRAM-SHA-1'),
      });
      c.reconnect.stop();
      // Its stop can race its own stream-management writes (a write on the closed socket):
      // counted, not fatal to the run.
      c.on('error', (err: Error) => stockErrors.push(err.message));
      try {
        await withoutCertificateChecks(() => c.start());
      } finally {
        await c.stop().catch(() => {});
      }
    };

    const mine: Sample[] = [];
    const theirs: Sample[] = [];
    for (let i = 0; i < warmup + logins; i++) {
      const a = await timed(ours);
      const b = await timed(stock).catch((err: Error) => {
        stockFailed.push(err.message || err.name);
        return undefined;
      });
      if (i >= warmup) {
        mine.push(a);
        if (b) theirs.push(b);
      }
      if ((i + 1) % 10 === 0) progress(`${i + 1} of ${warmup + logins} rounds`);
    }
    return {
      bench: 'login',
      machine: machine(s.version),
      logins,
      login: stats(mine),
      baseline_stock_client: stats(theirs),
      stock_client_failed_logins: stockFailed.length,
      ...(stockFailed.length ? { stock_client_first_failure: stockFailed[0] } : {}),
      stock_client_errors: stockErrors.length,
      ...(stockErrors.length ? { stock_client_first_error: stockErrors[0] } : {}),
    };
  });
}
