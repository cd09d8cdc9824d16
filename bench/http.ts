/**
 * http: the gateway's HTTP API against its IQ API, in the same run, on one gateway (in
 * this process) and a throw-away project-local ejabberd.
 *  status_*            one deployment's status read, over HTTP (keep-alive) and over IQ,
 *                      alternating rounds; p50/p99 in ms, the ratio and the difference at p50
 *  deploys_per_s       POST /api/v1/deployments answered 202, `--deploys` of them, 8 at a
 *                      time (stored with their job and event node; placement goes on behind)
 *  followers           `--followers` Server-Sent Events streams of one deployment; `--events`
 *                      events appended 20 ms apart; each follower must receive every event
 *                      once and in order; fanout_ms = event appended → its last follower got it
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger, mintToken } from '../core/index.js';
import { createGateway } from '../agents/gateway/index.js';
import { gateway as gw } from '../protocols/index.js';
import { machine, percentile, progress, round, type Bench } from './lib.js';
import { outcome, withEjabberd, type Result } from './lib/index.js';

const CLUSTER =
  '[cluster]\nname = bench\n\n[service.node]\ntype = scalable\nmin = 0\ninitial = 1\nmax = 10\nflavor = small\nimage = test-image\n';

export const bench: Bench = {
  name: 'http',
  summary: 'HTTP API against IQ: status read latency, deployments created per second, 1000 event-stream followers',
  flags: {
    reads: 'status reads per API (default 2000)',
    deploys: 'deployments created over HTTP (default 200)',
    followers: 'event-stream followers of one deployment (default 1000)',
    events: 'events appended while they follow (default 20)',
    timeout: 'seconds before the whole run gives up (default 300)',
  },
  run: (f) =>
    run({
      reads: f.reads ?? 2000,
      deploys: f.deploys ?? 200,
      followers: f.followers ?? 1000,
      events: f.events ?? 20,
      timeout: f.timeout ?? 300,
    }),
};

const ms = (ns: bigint) => Number(ns) / 1e6;

function run(o: {
  reads: number;
  deploys: number;
  followers: number;
  events: number;
  timeout: number;
}): Promise<Result> {
  return outcome(o.timeout, async (r) => {
    Object.assign(r, { bench: 'http', reads: o.reads, deploys: o.deploys, followers: o.followers, events: o.events });
    const dir = mkdtempSync(join(tmpdir(), 'cg-bench-http-'));
    const log = createLogger({ level: 'silent' });
    try {
      await withEjabberd({ operatorJwt: true }, async (s) => {
        // throw-away sessions minted with the operator's key
        Object.assign(r, machine(s.version));
        const key = await s.key();
        const login = async (user: string) => (await mintToken(key, `${user}@${s.host}`, 3600)).token;
        const user = `bench@${s.host}`;
        await s.server.register('bench', s.host, 'bench-password-1');
        const g = createGateway({
          xmpp: {
            service: s.service,
            domain: s.host,
            username: 'gateway',
            password: await login('gateway'),
            isToken: true,
            ca: s.ca,
            resource: 'gw',
          },
          db: join(dir, 'gateway.db'),
          log,
          clouds: [`cloud@${s.host}`],
          policy: { admins: [] },
          http: { host: '127.0.0.1', port: 0, bodyLimit: 1 << 20 },
        });
        const client = new Agent({
          kind: 'bench',
          log,
          xmpp: {
            service: s.service,
            domain: s.host,
            username: 'bench',
            password: await login('bench'),
            isToken: true,
            ca: s.ca,
            resource: 'iq',
          },
        });
        await g.start();
        await client.start();
        try {
          const base = g.http!.url;
          const tok = (
            (await (
              await fetch(`${base}/api/v1/login`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ username: user, password: 'bench-password-1' }),
              })
            ).json()) as { access_token: string }
          ).access_token;
          const auth = { authorization: `Bearer ${tok}` };
          await g.service.contexts.put(user, {
            name: 'n',
            body: '[amiconfig]\nplugins = environment\n\n[environment]\nA = 1\n',
          });
          g.service.clusters.put(user, CLUSTER);
          const dep = await g.service.deployments.deploy(user, { cluster: 'bench' });

          progress(`status reads: ${o.reads} over HTTP and over IQ, alternating`);
          const http: number[] = [];
          const iq: number[] = [];
          for (let i = 0; i < 50; i++) {
            await (await fetch(`${base}/api/v1/deployments/${dep.id}`, { headers: auth })).arrayBuffer();
            await client.request(gw.Status, g.agent.jid, { deployment: dep.id });
          }
          for (let i = 0; i < o.reads; i++) {
            let t = process.hrtime.bigint();
            const res = await fetch(`${base}/api/v1/deployments/${dep.id}`, { headers: auth });
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`status read answered ${res.status}`);
            http.push(ms(process.hrtime.bigint() - t));
            t = process.hrtime.bigint();
            await client.request(gw.Status, g.agent.jid, { deployment: dep.id });
            iq.push(ms(process.hrtime.bigint() - t));
          }
          const p = (xs: number[], q: number) => round(percentile(xs, q), 3);
          Object.assign(r, {
            status_http_p50_ms: p(http, 50),
            status_http_p99_ms: p(http, 99),
            status_iq_p50_ms: p(iq, 50),
            status_iq_p99_ms: p(iq, 99),
            status_ratio_p50: round(percentile(http, 50) / percentile(iq, 50), 3),
            status_http_minus_iq_p50_ms: round(percentile(http, 50) - percentile(iq, 50), 3),
          });

          progress(`creating ${o.deploys} deployments over HTTP`);
          const t0 = process.hrtime.bigint();
          let next = 0;
          await Promise.all(
            Array.from({ length: 8 }, async () => {
              while (next < o.deploys) {
                next++;
                const res = await fetch(`${base}/api/v1/deployments`, {
                  method: 'POST',
                  headers: { ...auth, 'content-type': 'application/json' },
                  body: '{"cluster":"bench","counts":{"node":0}}',
                });
                await res.arrayBuffer();
                if (res.status !== 202) throw new Error(`create answered ${res.status}`);
              }
            }),
          );
          r.deploys_per_s = round(o.deploys / (ms(process.hrtime.bigint() - t0) / 1000), 1);

          progress(`${o.followers} followers of one deployment's event stream`);
          const from = Math.max(0, ...g.model.events.list(dep.id).map((e) => e.seq));
          const got: number[][] = Array.from({ length: o.followers }, () => []);
          const when = new Map<number, number[]>();
          const ac = new AbortController();
          let opened = 0;
          const done: Array<Promise<void>> = [];
          await Promise.all(
            Array.from({ length: o.followers }, async (_, k) => {
              const res = await fetch(`${base}/api/v1/deployments/${dep.id}/events/stream?since=${from}`, {
                headers: auth,
                signal: ac.signal,
              });
              opened++;
              const reader = res.body!.getReader();
              const dec = new TextDecoder();
              done.push(
                (async () => {
                  let buf = '';
                  try {
                    for (;;) {
                      const { value, done: end } = await reader.read();
                      if (end) return;
                      buf += dec.decode(value, { stream: true });
                      let i;
                      while ((i = buf.indexOf('\n\n')) >= 0) {
                        const block = buf.slice(0, i);
                        buf = buf.slice(i + 2);
                        // Only the events this run appends: the gateway's own (placement) may interleave.
                        const id = /^event: bench$/m.test(block) ? /^id: (\d+)$/m.exec(block)?.[1] : undefined;
                        if (!id) continue;
                        got[k]!.push(Number(id));
                        (when.get(Number(id)) ?? when.set(Number(id), []).get(Number(id))!).push(performance.now());
                        if (got[k]!.length === o.events) return;
                      }
                    }
                  } catch {
                    /* aborted */
                  }
                })(),
              );
            }),
          );
          r.followers_connected = opened;
          const made = new Map<number, number>();
          for (let i = 0; i < o.events; i++) {
            const at = performance.now();
            g.model.events.append(dep.id, { type: 'bench', message: `event ${i}` });
            made.set(Math.max(...g.model.events.list(dep.id, { afterSeq: from }).map((e) => e.seq)), at);
            await new Promise((res) => setTimeout(res, 20));
          }
          await Promise.race([Promise.all(done), new Promise((res) => setTimeout(res, 30_000))]);
          ac.abort();
          const seqs = [...made.keys()];
          const complete = got.filter((x) => x.length === seqs.length && x.every((v, i) => v === seqs[i])).length;
          const fanout = seqs.map((q) => Math.max(...(when.get(q) ?? [Infinity])) - made.get(q)!);
          Object.assign(r, {
            followers_complete_in_order: complete,
            fanout_p50_ms: round(percentile(fanout, 50), 1),
            fanout_p99_ms: round(percentile(fanout, 99), 1),
            fanout_max_ms: round(Math.max(...fanout), 1),
          });
          if (complete !== o.followers)
            throw new Error(`${o.followers - complete} follower(s) missed or reordered events`);
        } finally {
          await client.stop().catch(() => {});
          await g.stop();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
