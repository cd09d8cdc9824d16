/**
 * Request/response over IQ (RFC 6120 §8.2.3), after xmpp.js iq/caller and iq/callee:
 * the handler's return value is the result; a thrown StanzaError becomes that stanza
 * error; any other throw becomes internal-server-error (logged); no handler means
 * service-unavailable. Every outgoing request has a timeout and settles exactly once.
 */
import { Element } from 'ltx';
import type { Logger } from 'pino';
import type { RequestDef } from '../protocols/index.js';
import { StanzaError, TimeoutError } from '../protocols/index.js';
import { FieldError } from '../protocols/index.js';
import { CloudgateError, StanzaTooLargeError } from './errors.js';
import { HookChain } from './hooks.js';
import { idGenerator, bareJid } from './ids.js';
import { onceLogger } from './once-log.js';

export interface RequestContext {
  /** Full JID of the sender, as stamped by the server. */
  from: string;
  /** Bare JID of the sender, lower-cased. */
  bare: string;
  id: string;
  def: RequestDef<any, any>;
  payload: unknown;
  log: Logger;
  /** Set by filters (e.g. the user a gateway acts for). */
  state: Record<string, unknown>;
}

export type Handler<Q, R> = (req: Q, ctx: RequestContext) => Promise<R> | R;

interface Pending {
  resolve: (el: Element) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  to: string;
}

/**
 * Whether an IQ answer from `from` can be the answer to a request sent to `to`: the same
 * JID, or any resource of a bare JID (the server answers for an account's bare JID).
 * An empty `from` is stamped by nobody but our own server (answers about our account).
 */
function answersFor(to: string, from: string): boolean {
  if (from === '' || to === '') return true;
  const slash = to.indexOf('/');
  if (slash < 0) return bareJid(from) === to.toLowerCase();
  return bareJid(from) === bareJid(to) && from.slice(from.indexOf('/')) === to.slice(slash);
}

export class StoppedError extends CloudgateError {
  constructor(message = 'agent stopped before the request completed') {
    super('CG_STOPPED', message);
  }
}

/**
 * Requests of one agent awaiting their answer, at most: the rest wait here until one is
 * answered. Every answer is a stanza the server queues for us until we acknowledge it, and
 * ejabberd ends a session whose queue passes max_ack_queue (10,000 in the project's set-up)
 * with "Too many unacked stanzas": a collector that asked 10,000 agents at once lost its
 * session three times in one fan-out, and still twice with 5,000 at once (the answers'
 * acknowledgements trail behind while the agent works through them, and other traffic
 * such as heartbeats shares the queue). 2,000 in flight still answered a thousand agents
 * as fast as all at once.
 */
export const MAX_OUTSTANDING_REQUESTS = 2000;

const NS_PING = 'urn:xmpp:ping';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

export class Rpc {
  private pending = new Map<string, Pending>();
  private handlers = new Map<string, { def: RequestDef<any, any>; fn: Handler<any, any> }>();
  private nextId = idGenerator();
  private inFlight = 0;
  /** Requests sent and not yet settled, and those waiting for one of them to settle. */
  private outstanding = 0;
  private waiting: Array<() => void> = [];
  private waitingHead = 0;
  readonly filters = new HookChain<RequestContext>();
  private warn;

  constructor(
    private readonly send: (el: Element) => Promise<void>,
    private readonly log: Logger,
    private readonly opts: {
      maxConcurrent: number;
      identity: () => { category: string; type: string; name: string };
      /** Throws a StanzaError for a sender that may not make requests (before anything else is read). */
      authorize?: (bare: string) => void;
      /** Requests awaiting an answer at once (default MAX_OUTSTANDING_REQUESTS). */
      maxOutstanding?: number;
    },
  ) {
    this.warn = onceLogger(log);
  }

  handle<Q, R>(def: RequestDef<Q, R>, fn: Handler<Q, R>): void {
    const key = `${def.request.ns} ${def.request.name}`;
    if (this.handlers.has(key)) throw new Error(`a handler for ${def.key} exists already`);
    this.handlers.set(key, { def, fn: fn as Handler<any, any> });
  }

  features(): string[] {
    return [...new Set([...this.handlers.keys()].map((k) => k.split(' ')[0]))];
  }

  async request<Q, R>(def: RequestDef<Q, R>, to: string, req: Q, o: { timeoutMs?: number } = {}): Promise<R> {
    const id = this.nextId();
    const iq = new Element('iq', { type: def.iqType, to, id });
    iq.children.push(def.request.encode(req));
    (iq.children[0] as Element).parent = iq;
    const timeoutMs = o.timeoutMs ?? def.timeoutMs;
    // The timeout counts from the send: waiting for a slot is our own doing, not the peer's.
    await this.slot();
    const reply = await this.exchange(iq, to, timeoutMs, def.request.name).finally(() => this.release());
    const payload = reply.getChild(def.response.name, def.response.ns);
    if (!payload)
      throw new StanzaError(
        'bad-request',
        `${to} answered ${def.request.name} without a <${def.response.name}/> payload`,
        'unknown-payload',
      );
    return def.response.decode(payload);
  }

  /** Sends a raw IQ and resolves with the result payload (or rejects with its StanzaError). */
  async iq(to: string, type: 'get' | 'set', payload: Element, timeoutMs = 30000): Promise<Element | undefined> {
    const id = this.nextId();
    const iq = new Element('iq', { type, to, id });
    iq.cnode(payload);
    const reply = await this.exchange(iq, to, timeoutMs, `<${payload.name}/>`);
    return reply.getChildElements()[0];
  }

  /**
   * Sends `iq` and resolves with its answer, or rejects with the answer's StanzaError, a
   * TimeoutError naming `what` after `timeoutMs`, or the send's own failure.
   */
  private async exchange(iq: Element, to: string, timeoutMs: number, what: string): Promise<Element> {
    const id = String(iq.attrs.id);
    const reply = await new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`${what} to ${to}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, to });
      this.send(iq).catch((err) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
    if (reply.attrs.type === 'error') throw StanzaError.fromElement(reply.getChild('error'));
    return reply;
  }

  /** Routes an incoming IQ; returns false if it is not one (never throws). */
  onIq(iq: Element): void {
    const type = iq.attrs.type;
    if (type === 'result' || type === 'error') {
      const p = this.pending.get(iq.attrs.id);
      if (!p) return; // late answer to a timed-out request
      const from = String(iq.attrs.from ?? '');
      if (!answersFor(p.to, from)) {
        // Someone else guessed or replayed the id: ignored, the real answer is still awaited.
        this.warn(
          `iq-spoof ${bareJid(from)}`,
          { from, expected: p.to, id: iq.attrs.id },
          'IQ answer from a JID the request was not sent to ignored',
        );
        return;
      }
      this.pending.delete(iq.attrs.id);
      clearTimeout(p.timer);
      p.resolve(iq);
      return;
    }
    if (type !== 'get' && type !== 'set') {
      this.warn(
        `iq-type ${bareJid(String(iq.attrs.from ?? ''))}`,
        { from: iq.attrs.from },
        'IQ without a valid type ignored',
      );
      return;
    }
    void this.serve(iq);
  }

  private async serve(iq: Element): Promise<void> {
    const from = String(iq.attrs.from ?? '');
    const bare = bareJid(from);
    const id = String(iq.attrs.id ?? '');
    const children = iq.getChildElements();
    const child = children[0] as Element | undefined;
    const ns = String(child?.attrs.xmlns ?? '');
    if (children.length === 1) {
      // Anyone may ping us or ask what we serve.
      if (ns === NS_PING && child!.name === 'ping') return this.reply(iq, undefined);
      if (ns === NS_DISCO_INFO && iq.attrs.type === 'get') return this.reply(iq, this.discoInfo());
    }
    // A sender we do not trust learns nothing more: not even which payloads we serve.
    try {
      this.opts.authorize?.(bare);
    } catch (err) {
      return this.refuse(iq, bare, child, err);
    }
    if (!child || children.length !== 1) {
      return this.refuse(
        iq,
        bare,
        child,
        new StanzaError(
          'bad-request',
          `an IQ ${iq.attrs.type} carries exactly one payload (got ${children.length})`,
          'unknown-payload',
        ),
      );
    }
    const handler = this.handlers.get(`${ns} ${child.name}`);
    if (!handler) {
      return this.refuse(
        iq,
        bare,
        child,
        new StanzaError('service-unavailable', `no handler for <${child.name} xmlns='${ns}'/>`, 'unknown-payload'),
      );
    }
    const { def, fn } = handler;
    if (iq.attrs.type !== def.iqType) {
      return this.refuse(
        iq,
        bare,
        child,
        new StanzaError(
          'bad-request',
          `<${child.name}/> is an IQ ${def.iqType}, not ${iq.attrs.type}`,
          'wrong-iq-type',
        ),
      );
    }
    if (this.inFlight >= this.opts.maxConcurrent) {
      return this.reply(
        iq,
        undefined,
        new StanzaError('resource-constraint', `busy: ${this.inFlight} requests in progress`, 'busy'),
      );
    }
    this.inFlight++;
    try {
      const ctx: RequestContext = { from, bare, id, def, payload: def.request.decode(child), log: this.log, state: {} };
      let result: Element | undefined;
      await this.filters.run(ctx, async () => {
        result = def.response.encode(await fn(ctx.payload, ctx));
      });
      if (!result) throw new StanzaError('not-allowed', `${child.name} was not handled`, 'filtered');
      await this.reply(iq, result);
    } catch (err) {
      await this.reply(iq, undefined, this.toStanzaError(err, from, child));
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Answers with the error and logs it once per sender and kind of problem (keyed by bare
   * JID: a hostile client can change its resource, or the namespace it sends, every time).
   */
  private refuse(iq: Element, bare: string, child: Element | undefined, err: unknown): Promise<void> {
    return this.reply(iq, undefined, this.toStanzaError(err, bare, child));
  }

  private toStanzaError(err: unknown, from: string, child: Element | undefined): StanzaError {
    const request = child?.name;
    if (err instanceof StanzaError) {
      const key = `${bareJid(from)} ${err.condition} ${err.app}`;
      this.warn(
        key,
        { from, request, ns: child?.attrs.xmlns, condition: err.condition, app: err.app, reason: err.message },
        'request refused',
      );
      return err;
    }
    if (err instanceof FieldError) return new StanzaError('bad-request', `invalid ${err.message}`, 'invalid-field');
    this.log.error({ err, from, request }, 'request handler failed');
    return new StanzaError('internal-server-error', `${request} failed: internal error (logged)`);
  }

  private async reply(iq: Element, payload: Element | undefined, error?: StanzaError): Promise<void> {
    const out = new Element('iq', { type: error ? 'error' : 'result', to: iq.attrs.from, id: iq.attrs.id });
    if (error) out.cnode(error.toElement());
    else if (payload) out.cnode(payload);
    try {
      await this.send(out);
    } catch (err) {
      if (err instanceof StanzaTooLargeError && !error) {
        // The caller would otherwise wait for its timeout.
        this.log.warn({ to: iq.attrs.from, bytes: err.bytes, limit: err.limit }, 'result too large to send');
        return this.reply(
          iq,
          undefined,
          new StanzaError(
            'internal-server-error',
            `the result (${err.bytes} bytes) is over the server's stanza size limit`,
            'too-large',
          ),
        );
      }
      this.log.debug({ err }, 'could not send IQ reply');
    }
  }

  private discoInfo(): Element {
    const q = new Element('query', { xmlns: NS_DISCO_INFO });
    q.c('identity', this.opts.identity());
    for (const f of [NS_DISCO_INFO, NS_PING, ...this.features()]) q.c('feature', { var: f });
    return q;
  }

  /** Resolves once fewer than maxOutstanding requests await an answer, taking one slot. */
  private slot(): Promise<void> {
    if (this.outstanding < (this.opts.maxOutstanding ?? MAX_OUTSTANDING_REQUESTS)) {
      this.outstanding++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A request settled: its slot goes to the longest waiting one, if any. */
  private release(): void {
    if (this.waitingHead < this.waiting.length) {
      const next = this.waiting[this.waitingHead++]!;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.waitingHead);
        this.waitingHead = 0;
      }
      next();
      return;
    }
    this.outstanding--;
  }

  /** Requests waiting for a slot (the window of MAX_OUTSTANDING_REQUESTS is full). */
  get queuedCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  /** Fails every pending request (graceful stop). */
  failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  get pendingCount(): number {
    return this.pending.size;
  }
}
