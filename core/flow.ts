/**
 * End-to-end flow control for one-way messages. Stream management only tells a sender
 * that the *server* took a stanza; if the receiver reads slower than the sender writes,
 * ejabberd's queue towards the receiver grows until it closes that stream ("Too many
 * unacked stanzas"). So every `every`-th message to a peer asks for a credit
 * (<credit xmlns='urn:cloudgate:flow:1' seq='n'/>, protocols/flow.ts), the receiver answers after handling
 * it, and a sender keeps at most `window` messages beyond the last answered one.
 * A peer that stops answering (offline, not a cloudgate agent) releases the window
 * after `stallMs`.
 *
 * Senders beyond the window wait in a FIFO line and an answer wakes exactly as many as
 * it freed, so a burst of 100,000 queued sends costs one promise each, not one per
 * answer (waking everyone to re-check is quadratic in the burst).
 */
import type { Element } from 'ltx';
import { flow } from '../protocols/index.js';

export const NS_FLOW = flow.NS_FLOW;

type Slot = Element | undefined;

interface PeerState {
  seq: number;
  acked: number;
  waiters: Array<(credit: Slot) => void>;
  /** Index of the first waiter still waiting (the line is compacted now and then). */
  head: number;
  lastProgress: number;
  stall?: NodeJS.Timeout;
}

export class FlowControl {
  private peers = new Map<string, PeerState>();

  constructor(private readonly o: { window: number; every: number; stallMs: number }) {}

  private state(to: string): PeerState {
    let s = this.peers.get(to);
    if (!s) {
      s = { seq: 0, acked: 0, waiters: [], head: 0, lastProgress: Date.now() };
      this.peers.set(to, s);
    }
    return s;
  }

  /**
   * Takes the next slot towards `to`: the credit request to attach (or undefined) when
   * there is room now, else a promise of it once there is. Slots are granted in call order.
   */
  before(to: string): Slot | Promise<Slot> {
    const s = this.state(to);
    if (s.head === s.waiters.length && s.seq - s.acked < this.o.window) return this.take(s);
    if (s.head === s.waiters.length) s.lastProgress = Date.now(); // the line starts now
    const p = new Promise<Slot>((resolve) => s.waiters.push(resolve));
    this.armStall(s);
    return p;
  }

  private take(s: PeerState): Slot {
    s.seq++;
    return s.seq % this.o.every === 0 ? flow.Credit.payload.encode({ seq: s.seq }) : undefined;
  }

  /** The receiver's answer arrived. */
  onAck(from: string, seq: number): void {
    const s = this.peers.get(from);
    if (!s || !(seq > s.acked)) return;
    s.acked = Math.min(seq, s.seq);
    s.lastProgress = Date.now();
    this.wake(s);
  }

  /** A peer went away: its messages go to offline storage, not to a session queue. */
  release(bare: string): void {
    const s = this.peers.get(bare);
    if (s) {
      s.acked = s.seq;
      s.lastProgress = Date.now();
      this.wake(s);
    }
  }

  /** Grants slots to waiters, in order, while the window has room. */
  private wake(s: PeerState): void {
    while (s.head < s.waiters.length && s.seq - s.acked < this.o.window) {
      const w = s.waiters[s.head];
      s.waiters[s.head++] = undefined as never;
      w(this.take(s));
    }
    if (s.head === s.waiters.length) {
      s.waiters = [];
      s.head = 0;
      clearTimeout(s.stall);
      s.stall = undefined;
    } else if (s.head > 1024 && s.head * 2 > s.waiters.length) {
      s.waiters = s.waiters.slice(s.head);
      s.head = 0;
    }
  }

  /** One timer per peer with a line: no answer for stallMs releases the window. */
  private armStall(s: PeerState): void {
    if (s.stall) return;
    const check = () => {
      s.stall = undefined;
      if (s.head === s.waiters.length) return;
      const idle = Date.now() - s.lastProgress;
      if (idle >= this.o.stallMs) {
        s.acked = s.seq;
        s.lastProgress = Date.now();
        this.wake(s);
      }
      if (s.head < s.waiters.length) {
        s.stall = setTimeout(check, Math.max(1, this.o.stallMs - (Date.now() - s.lastProgress)));
        s.stall.unref();
      }
    };
    s.stall = setTimeout(check, Math.max(1, this.o.stallMs - (Date.now() - s.lastProgress)));
    s.stall.unref();
  }

  releaseAll(): void {
    for (const bare of this.peers.keys()) this.release(bare);
  }

  /** Messages waiting for room towards `to` (tests, metrics). */
  waiting(to: string): number {
    const s = this.peers.get(to);
    return s ? s.waiters.length - s.head : 0;
  }
}
