/**
 * End-to-end flow control for one-way messages. Stream management only tells a sender
 * that the *server* took a stanza; if the receiver reads slower than the sender writes,
 * ejabberd's queue towards the receiver grows until it closes that stream ("Too many
 * unacked stanzas"). So every `every`-th message to a peer asks for a credit
 * (<credit xmlns='urn:cloudgate:flow:1' seq='n'/>), the receiver answers after handling
 * it, and a sender keeps at most `window` messages beyond the last answered one.
 * A peer that stops answering (offline, not a cloudgate agent) releases the window
 * after `stallMs`.
 */
import { Element } from 'ltx';

export const NS_FLOW = 'urn:cloudgate:flow:1';

interface PeerState { seq: number; acked: number; waiters: Array<() => void>; lastProgress: number }

export class FlowControl {
  private peers = new Map<string, PeerState>();

  constructor(private readonly o: { window: number; every: number; stallMs: number }) {}

  private state(to: string): PeerState {
    let s = this.peers.get(to);
    if (!s) { s = { seq: 0, acked: 0, waiters: [], lastProgress: Date.now() }; this.peers.set(to, s); }
    return s;
  }

  /** Waits for room, then returns the credit request to attach (or undefined). */
  async before(to: string): Promise<Element | undefined> {
    const s = this.state(to);
    while (s.seq - s.acked >= this.o.window) {
      await new Promise<void>((resolve) => {
        s.waiters.push(resolve);
        const t = setTimeout(() => {
          if (Date.now() - s.lastProgress >= this.o.stallMs) { s.acked = s.seq; s.lastProgress = Date.now(); }
          this.wake(s);
        }, this.o.stallMs);
        t.unref();
      });
    }
    s.seq++;
    if (s.seq % this.o.every === 0) return new Element('credit', { xmlns: NS_FLOW, seq: String(s.seq) });
    return undefined;
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
    if (s) { s.acked = s.seq; this.wake(s); }
  }

  private wake(s: PeerState): void {
    for (const w of s.waiters.splice(0)) w();
  }

  releaseAll(): void { for (const s of this.peers.values()) { s.acked = s.seq; this.wake(s); } }
}
