/**
 * Reliable directed messages for work that must survive restarts: at-least-once
 * delivery, exactly-once effect.
 *  - The sender writes each message to its outbox (SQLite) before sending, sends it to
 *    the peer's bare JID as type "normal" (so ejabberd stores it offline when the peer
 *    is away), and re-sends with backoff until a XEP-0184 receipt arrives.
 *  - The receiver de-duplicates by message id in a table that survives its restart,
 *    runs the handler, records the id, then sends the receipt. A handler that throws
 *    a StanzaError (the message itself is bad) is receipted and answered with an
 *    error; any other failure is not receipted, so the sender retries. A message refused
 *    before its handler ran (sender not trusted, payload invalid) is receipted and
 *    answered too, but its id is not recorded: it had no effect to repeat.
 */
import { Element, parse } from 'ltx';
import type { Logger } from 'pino';
import type { Db } from './store.js';
import { createSeenIds, type SeenIds } from './store.js';
import type { MessageDef } from '../protocols/index.js';
import { StanzaError } from '../protocols/index.js';
import { uniqueId, bareJid } from './ids.js';
import { HookChain } from './hooks.js';
import { onceLogger } from './once-log.js';
import { StanzaTooLargeError, overLimit } from './errors.js';

export const NS_RECEIPTS = 'urn:xmpp:receipts';

export interface MessageContext {
  from: string;
  bare: string;
  id: string;
  reliable: boolean;
  log: Logger;
  state: Record<string, unknown>;
}
export type MessageHandler<T> = (msg: T, ctx: MessageContext) => Promise<void> | void;

const OUTBOX = `CREATE TABLE IF NOT EXISTS cg_outbox (
  id TEXT PRIMARY KEY, recipient TEXT NOT NULL, stanza TEXT NOT NULL,
  created INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL)`;

export class Reliable {
  private handlers = new Map<string, { def: MessageDef<any>; fn: MessageHandler<any> }>();
  private seen: SeenIds;
  private timer?: NodeJS.Timeout;
  readonly filters = new HookChain<MessageContext & { def: MessageDef<any>; payload: unknown }>();
  private waiters = new Map<string, () => void>();
  /** Reliable messages (sender and id) whose handler runs now. */
  private readonly handling = new Set<string>();
  private readonly warn;
  /**
   * No outbox row is due before this time (ms; Infinity: the outbox is empty). It is never
   * later than the table's earliest next_at, so the once-a-second tick can skip reading the
   * table: a thousand idle agents in one process were spending a fifth of their CPU on it.
   */
  private nextDue = 0;

  constructor(
    private readonly db: Db,
    private readonly send: (el: Element) => Promise<void>,
    private readonly log: Logger,
    private readonly opts: {
      resendMs: number;
      maxResendMs: number;
      /** Refuses (throws) before storing a message the server would not take. */
      maxStanzaSize?: number;
      /** Throws a StanzaError for a sender that may not send us typed messages (before decoding). */
      authorize?: (bare: string) => void;
    },
  ) {
    this.warn = onceLogger(log);
    db.exec(OUTBOX);
    this.seen = createSeenIds(db, 'cg_seen_messages');
  }

  handle<T>(def: MessageDef<T>, fn: MessageHandler<T>): void {
    const key = `${def.payload.ns} ${def.payload.name}`;
    if (this.handlers.has(key)) throw new Error(`a handler for ${def.key} exists already`);
    this.handlers.set(key, { def, fn });
  }

  /** Queues a message durably and sends it; resolves once it is in the outbox. */
  async sendReliable<T>(def: MessageDef<T>, to: string, msg: T, id = uniqueId()): Promise<string> {
    const el = new Element('message', { to: bareJid(to), type: 'normal', id });
    el.cnode(def.payload.encode(msg));
    el.c('request', { xmlns: NS_RECEIPTS });
    const stanza = el.toString();
    // Stored, it would be re-sent (and refused) forever.
    const bytes = this.opts.maxStanzaSize ? overLimit(stanza, this.opts.maxStanzaSize) : 0;
    if (bytes) throw new StanzaTooLargeError(bytes, this.opts.maxStanzaSize!);
    const now = Date.now();
    this.db
      .prepare('INSERT OR IGNORE INTO cg_outbox (id, recipient, stanza, created, next_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, bareJid(to), stanza, now, now + this.opts.resendMs);
    this.nextDue = Math.min(this.nextDue, now + this.opts.resendMs);
    // Not awaited: while the connection is down the send waits for it, and the caller
    // only needs the message stored (the outbox re-sends it anyway).
    this.send(el).catch((err) => this.log.debug({ err, id }, 'first send failed; will retry'));
    return id;
  }

  /** Resolves when the receipt for `id` arrives (tests and callers that must know). */
  delivered(id: string): Promise<void> {
    if (!this.db.prepare('SELECT 1 FROM cg_outbox WHERE id = ?').get(id)) return Promise.resolve();
    return new Promise((r) => this.waiters.set(id, r));
  }

  pending(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM cg_outbox').get() as { n: number }).n;
  }

  start(): void {
    const tick = () => {
      this.resendDue().catch((err) => this.log.warn({ err }, 'outbox resend failed'));
      this.timer = setTimeout(tick, Math.min(1000, this.opts.resendMs));
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Re-sends everything outstanding at once (after a new session). */
  async resendAll(): Promise<void> {
    this.db.prepare('UPDATE cg_outbox SET next_at = 0').run();
    this.nextDue = 0;
    await this.resendDue();
  }

  private async resendDue(): Promise<void> {
    const now = Date.now();
    if (now < this.nextDue) return;
    const due = this.db
      .prepare('SELECT id, stanza, attempts FROM cg_outbox WHERE next_at <= ? ORDER BY created LIMIT 500')
      .all(now) as Array<{ id: string; stanza: string; attempts: number }>;
    const upd = this.db.prepare('UPDATE cg_outbox SET attempts = ?, next_at = ? WHERE id = ?');
    for (const row of due) {
      const delay = Math.min(this.opts.maxResendMs, this.opts.resendMs * 2 ** Math.min(row.attempts, 10));
      upd.run(row.attempts + 1, now + delay, row.id);
      await this.send(parse(row.stanza) as Element).catch(() => {});
    }
    // Read after the sends: rows queued meanwhile are in the table already.
    const next = this.db.prepare('SELECT min(next_at) AS t FROM cg_outbox').get() as { t: number | null };
    this.nextDue = next.t ?? Infinity;
  }

  /** Handles receipts and reliable/typed messages; returns true if the message was ours. */
  async onMessage(el: Element): Promise<boolean> {
    const received = el.getChild('received', NS_RECEIPTS);
    if (received) {
      const id = String(received.attrs.id ?? '');
      this.db.prepare('DELETE FROM cg_outbox WHERE id = ?').run(id);
      this.waiters.get(id)?.();
      this.waiters.delete(id);
      return true;
    }
    const payload = el.getChildElements().find((c) => this.handlers.has(`${c.attrs.xmlns} ${c.name}`));
    if (!payload) return false;
    const from = String(el.attrs.from ?? '');
    const id = String(el.attrs.id ?? '');
    const reliable = !!el.getChild('request', NS_RECEIPTS) && id !== '';
    const key = `${bareJid(from)} ${id}`;
    // A copy arriving while the first is still handled (a re-send crossing the offline-stored
    // one after a reconnect) is dropped: the first one's receipt answers for both.
    if (reliable && this.handling.has(key)) return true;
    if (reliable && this.seen.has(key)) {
      await this.receipt(from, id); // our earlier receipt was lost: say it again, do nothing else
      return true;
    }
    const { def, fn } = this.handlers.get(`${payload.attrs.xmlns} ${payload.name}`)!;
    const ctx = {
      from,
      bare: bareJid(from),
      id,
      reliable,
      log: this.log,
      state: {},
      def,
      payload: undefined as unknown,
    };
    if (reliable) this.handling.add(key);
    // An id is remembered only once the handler may have acted: a message refused before
    // that (unauthorized sender, invalid payload) had no effect, and its copies are refused
    // alike, so a flood of them does not grow the table.
    let handled = false;
    try {
      try {
        this.opts.authorize?.(ctx.bare);
        ctx.payload = def.payload.decode(payload);
        handled = true;
        await this.filters.run(ctx, () => fn(ctx.payload, ctx));
      } catch (err) {
        if (!(err instanceof StanzaError)) {
          this.log.error({ err, from, id, message: payload.name }, 'message handler failed; the sender will retry');
          return true;
        }
        // Once per sender and kind of problem: a flood of bad messages is not a flood of lines.
        this.warn(
          `${ctx.bare} ${err.condition} ${err.app}`,
          { from, id, message: payload.name, condition: err.condition, app: err.app, reason: err.message },
          'message refused',
        );
        await this.replyError(el, err);
      }
      if (reliable && handled) this.seen.add(key);
    } finally {
      this.handling.delete(key);
    }
    if (reliable) await this.receipt(from, id);
    return true;
  }

  private async receipt(to: string, id: string): Promise<void> {
    const r = new Element('message', { to: bareJid(to), type: 'normal' });
    r.c('received', { xmlns: NS_RECEIPTS, id });
    await this.send(r).catch(() => {});
  }

  private async replyError(el: Element, err: StanzaError): Promise<void> {
    if (el.attrs.type === 'error') return;
    const r = new Element('message', { to: el.attrs.from, type: 'error', id: el.attrs.id });
    r.cnode(err.toElement());
    await this.send(r).catch(() => {});
  }

  /** Forgets de-duplication ids older than `ms` (default a week). */
  prune(ms = 7 * 24 * 3600 * 1000): number {
    return this.seen.prune(ms);
  }
}
