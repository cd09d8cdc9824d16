/**
 * The rpc benchmark's baseline: two stock @xmpp/client sessions, driven as a careful user
 * of that client would drive them. The stock client has stream management (XEP-0198) but
 * no flow control: a sender that outruns its receiver fills ejabberd's queue of stanzas
 * the receiver has not acknowledged, and at `max_ack_queue` ejabberd closes the stream
 * ("Too many unacked stanzas", policy-violation). So the sender keeps at most `window`
 * messages beyond what the receiver has handled, and the receiver acknowledges on its own
 * every `ackEvery` stanzas (XEP-0198 §4: "an <a/> element MAY be sent at any time"), so the
 * server's count of unacknowledged stanzas follows what was handled instead of waiting
 * for the server's next <r/> to be answered by a busy process.
 */
import { client as xmppClient, xml } from '@xmpp/client';
import { percentile } from '../lib.js';

const NS_SM = 'urn:xmpp:sm:3';

export interface StockServer {
  service: string;
  host: string;
  server: { register(user: string, host: string, password: string): Promise<unknown> };
}

export interface StockPair {
  a: any;
  b: any;
  bJid: string;
  /** Sessions closed by the server or the network since the pair started. */
  readonly drops: string[];
  onMessage?: () => void;
  stop(): Promise<void>;
}

export interface Pacing {
  /** Messages the sender may have beyond what the receiver handled (default 1000). */
  window?: number;
  /** The receiver acknowledges unasked every this many stanzas (default 250; 0: never). */
  ackEvery?: number;
}

/**
 * Runs `connect` (stock clients logging in) with certificate checks off, and on again as
 * soon as it ends: the stock STARTTLS takes no CA, and Node reads the setting at each TLS
 * connect. Node's warning about it is silenced meanwhile: it would say "all connections".
 */
export async function withoutCertificateChecks<T>(connect: () => Promise<T>): Promise<T> {
  const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  const emitWarning = process.emitWarning;
  process.emitWarning = (() => {}) as typeof process.emitWarning;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    return await connect();
  } finally {
    if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    process.emitWarning = emitWarning;
  }
}

/**
 * Two stock clients with password accounts (the stock client picks SCRAM, which
 * ejabberd's JWT auth does not serve). The server's certificate is self-signed and the
 * stock STARTTLS takes no CA option, so certificate checks are off for these two
 * connections only, and back on before anything else connects.
 */
export async function stockPair(
  s: StockServer,
  p: Pacing = {},
  log: (line: string) => void = () => {},
  names: [string, string] = ['raw-a', 'raw-b'],
): Promise<StockPair> {
  for (const n of names) await s.server.register(n, s.host, `${n}-pw`);
  const drops: string[] = [];
  let stopping = false;
  const make = (user: string) => {
    const c = xmppClient({
      service: s.service,
      domain: s.host,
      username: user,
      password: `${user}-pw`,
      resource: 'raw',
    });
    c.reconnect.stop();
    c.on('error', (err: Error) => {
      log(`baseline ${user}: ${err.message}`);
      if (!stopping) drops.push(`${user}: ${err.message}`);
    });
    c.on('disconnect', () => {
      if (!stopping) drops.push(`${user}: disconnected`);
    });
    // After a stream error the stock client detaches its parser, yet data already on the
    // socket is still handed to it: a TypeError thrown from a socket event, which would end
    // the benchmark's process. Such late data is dropped; the closing is already in `drops`.
    const onData = c._onData.bind(c);
    c._onData = (data: Buffer) => {
      if (c.parser) onData(data);
    };
    // DESIGN.md: with Nagle on, IQ round trips took 44 ms instead of 0.37 ms.
    c.on('connect', () => c.socket?.setNoDelay?.(true));
    return c;
  };
  const a = make(names[0]);
  const b = make(names[1]);
  await withoutCertificateChecks(() => Promise.all([a.start(), b.start()]));
  const pair: StockPair = {
    a,
    b,
    bJid: String(b.jid),
    drops,
    async stop() {
      stopping = true;
      await Promise.all([a.stop().catch(() => {}), b.stop().catch(() => {})]);
    },
  };
  const ackEvery = p.ackEvery ?? 250;
  let sinceAck = 0;
  b.on('stanza', (el: any) => {
    if (el.name !== 'message') return;
    pair.onMessage?.();
    if (ackEvery > 0 && ++sinceAck >= ackEvery && b.streamManagement?.enabled) {
      sinceAck = 0;
      b.send(xml('a', { xmlns: NS_SM, h: String(b.streamManagement.inbound) })).catch(() => {});
    }
  });
  await Promise.all([a.send(xml('presence')), b.send(xml('presence'))]);
  return pair;
}

export interface Rtt {
  p50: number;
  p99: number;
  cpuUs: number;
}
export interface Rate {
  perS: number;
  cpuUs: number;
}

/** CPU time of this process per operation, from now. */
export function cpuMeter(): (n: number) => number {
  const u0 = process.cpuUsage();
  return (n) => {
    const u = process.cpuUsage(u0);
    return (u.user + u.system) / n;
  };
}

/** Fails at once, naming it, when the server closed either session. */
function checkDrops(raw: StockPair): void {
  if (raw.drops.length) throw new Error(`the server closed the stock pair: ${raw.drops.join('; ')}`);
}

export async function stockRtt(raw: StockPair, n: number): Promise<Rtt> {
  const ms: number[] = new Array(n);
  const cpu = cpuMeter();
  for (let i = 0; i < n; i++) {
    checkDrops(raw);
    const t = performance.now();
    await raw.a.iqCaller.request(
      xml('iq', { type: 'get', to: raw.bJid }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      10000,
    );
    ms[i] = performance.now() - t;
  }
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), cpuUs: cpu(n) };
}

/**
 * `n` one-way messages from a to b, paced (see the header); resolves when b has them all,
 * rejects when a session is closed or none arrives for `stallMs`.
 */
export async function stockRate(
  raw: StockPair,
  n: number,
  o: Pacing & { ns: string; data: string; stallMs: number },
): Promise<Rate> {
  const window = o.window ?? 1000;
  let got = 0;
  let wake: (() => void) | undefined;
  let lastAt = performance.now();
  let doneAt = 0;
  raw.onMessage = () => {
    got++;
    lastAt = performance.now();
    if (got === n) doneAt = lastAt;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitFor = async (ok: () => boolean) => {
    while (!ok()) {
      checkDrops(raw);
      if (performance.now() - lastAt > o.stallMs)
        throw new Error(`stock one-way: ${got} of ${n} arrived, none for ${o.stallMs} ms`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100).unref();
      });
    }
  };
  const t0 = performance.now();
  const cpu = cpuMeter();
  for (let i = 0; i < n; i++) {
    if (i - got >= window) await waitFor(() => i - got < window);
    raw.a
      .send(
        xml('message', { to: raw.bJid, type: 'normal' }, xml('tick', { xmlns: o.ns, seq: String(i), data: o.data })),
      )
      .catch(() => {});
  }
  await waitFor(() => got >= n);
  checkDrops(raw);
  return { perS: (n / (doneAt - t0)) * 1000, cpuUs: cpu(n) };
}

/**
 * Lets the last round's after-effects pass before the next starts: the stock client asks
 * for acks only after 250 ms without sending, and drops acknowledged stanzas from its
 * queue one shift() at a time, CPU that would otherwise land in the next round.
 */
export async function settle(raw: StockPair): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (raw.a.streamManagement.outbound_q.length > 0 && Date.now() < deadline && !raw.drops.length)
    await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
}
