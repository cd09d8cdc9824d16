/**
 * One process of a fleet spread over several (fleet-procs.ts): it starts its share of the
 * instance agents with startFleet, subscribes them to the broadcast node when asked, counts
 * the broadcast items they receive, and stops them when told. One process holds at most a
 * few thousand agents, so each stays well under the open-file limit (a session's socket
 * and an agent's SQLite files per agent) and a crash costs only its share.
 * Run only by fleet-procs.ts through fork(); it talks over the IPC channel alone.
 */
import { loadJwtKey } from '../../core/index.js';
import { countingLogger } from './log.js';
import { paced } from './pace.js';
import { describe } from './outcome.js';
import { startFleet, type Fleet } from './fleet.js';
import { ownMemory } from './proc.js';
import { Broadcast, type ToWorker, type FromWorker } from './fleet-procs.js';

const send = (m: FromWorker) => process.send?.(m);
const now = () => performance.timeOrigin + performance.now();

const logs = countingLogger();
const ac = new AbortController();
let fleet: Fleet | undefined;
/** seq → [received, last arrival]. */
const received = new Map<number, { n: number; last: number; first: number }>();

process.on('disconnect', () => {
  // The bench is gone: stop everything rather than leave sessions behind.
  ac.abort(new Error('parent gone'));
  void (fleet?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
});

process.on('message', (raw: unknown) => {
  void handle(raw as ToWorker).catch((err) => send({ type: 'error', error: describe(err) }));
});

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'start': {
      const o = m.options;
      const baseRssMb = ownMemory().rss_mb;
      fleet = await startFleet({ ...o, key: await loadJwtKey(o.keyFile), log: logs.log, signal: ac.signal });
      for (const ia of fleet.agents)
        ia.agent.pubsub.on(Broadcast, (b) => {
          const at = now();
          const r = received.get(b.seq) ?? { n: 0, last: 0, first: at };
          r.n++;
          r.last = at;
          received.set(b.seq, r);
        });
      send({
        type: 'started',
        bares: fleet.bares,
        loginMs: fleet.loginMs,
        retries: fleet.retries,
        failed: fleet.failed,
        firstError: fleet.firstError,
        rssMb: ownMemory().rss_mb,
        baseRssMb,
      });
      return;
    }
    case 'subscribe': {
      const agents = fleet?.agents ?? [];
      const r = await paced(agents, { concurrency: m.concurrency, attempts: 3 }, (ia) =>
        ia.agent.pubsub.subscribe(m.node),
      );
      const first = r.errors.values().next();
      send({
        type: 'subscribed',
        ok: agents.length - r.errors.size,
        failed: r.errors.size,
        error: first.done ? undefined : describe(first.value),
      });
      return;
    }
    case 'received': {
      const r = received.get(m.seq);
      send({ type: 'received', seq: m.seq, n: r?.n ?? 0, first: r?.first ?? 0, last: r?.last ?? 0 });
      return;
    }
    case 'stop': {
      const disconnects = fleet?.disconnects ?? 0;
      const peak = ownMemory().peak_rss_mb;
      await fleet?.stop();
      send({ type: 'stopped', disconnects, peakRssMb: peak, logs: Object.fromEntries(logs.counts) });
      process.disconnect?.();
      return;
    }
  }
}
