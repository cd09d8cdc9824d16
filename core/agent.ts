/**
 * The agent runtime: one XMPP session plus typed requests, messages, presence, PubSub,
 * chat commands and ordered hooks. Capabilities are modules wired in each agent's
 * index.ts; nothing here knows about clouds or clusters.
 */
import { EventEmitter } from 'node:events';
import { Element } from 'ltx';
import type { Logger } from 'pino';
import { Connection, type ConnectionEvent, type ConnectionOptions } from './connection.js';
import { Rpc, StoppedError, type Handler, type RequestContext } from './rpc.js';
import { Reliable, type MessageHandler, type MessageContext } from './reliable.js';
import { Presence, type Peer, type PeerEvent } from './presence.js';
import { PubSub } from './pubsub.js';
import { ChatRouter, type ChatContext } from './chat.js';
import { FlowControl } from './flow.js';
import { openStore, type Db } from './store.js';
import { createLogger } from './log.js';
import { bareJid } from './ids.js';
import { onceLogger } from './once-log.js';
import type { RequestDef, MessageDef, PresenceDef, EventDef } from '../protocols/index.js';
import { StanzaError } from '../protocols/index.js';
import { chat as chatWire, flow as flowWire } from '../protocols/index.js';
import type { Hook } from './hooks.js';

/** Connection settings of an agent: those of core/connection.ts minus what the agent sets. */
export type XmppOptions = Omit<ConnectionOptions, 'kind' | 'log'> & { kind?: 'client' | 'component' };

export interface AgentOptions {
  /** gateway, cloud, instance, or a kind of the user's own. */
  kind: string;
  xmpp: XmppOptions;
  log?: Logger;
  /** State that must survive restarts (outbox, seen ids, pubsub positions). In memory if absent. */
  db?: Db;
  /** Who may send requests and typed messages. Default: any JID of our own domain or its subdomains. */
  trusted?: (bare: string) => boolean;
  pubsubService?: string;
  maxConcurrentRequests?: number;
  resendMs?: number;
  /** Flow control: one-way messages in flight per peer. */
  flowWindow?: number;
}

export interface AgentModule {
  readonly name: string;
  setup?(agent: Agent): void | Promise<void>;
  start?(agent: Agent): void | Promise<void>;
  stop?(agent: Agent): void | Promise<void>;
}

export type AgentEvent = { type: 'online'; resumed: boolean } | { type: 'offline'; reason?: string };

export class Agent extends EventEmitter {
  readonly kind: string;
  readonly log: Logger;
  readonly db: Db;
  readonly conn: Connection;
  readonly presence: Presence;
  readonly pubsub: PubSub;
  readonly chat: ChatRouter;
  private readonly rpc: Rpc;
  private readonly reliable: Reliable;
  private readonly flow: FlowControl;
  private readonly modules: AgentModule[] = [];
  private readonly trusted: (bare: string) => boolean;
  private readonly warn;
  private started = false;
  private starting = false;
  private stopped = false;

  constructor(readonly options: AgentOptions) {
    super();
    this.kind = options.kind;
    const x = options.xmpp;
    const who = x.kind === 'component' ? x.domain : `${x.username}@${x.domain}`;
    this.log = (options.log ?? createLogger()).child({ agent: options.kind, jid: who });
    this.warn = onceLogger(this.log);
    this.db = options.db ?? openStore(':memory:', []);
    const domain = x.domain.toLowerCase();
    const serverDomain = x.kind === 'component' ? domain.split('.').slice(1).join('.') || domain : domain;
    this.trusted =
      options.trusted ??
      ((bare) => {
        const d = bare.slice(bare.indexOf('@') + 1);
        return d === serverDomain || d.endsWith(`.${serverDomain}`);
      });
    this.conn = new Connection({ ...x, kind: x.kind ?? 'client', log: this.log.child({ module: 'connection' }) });
    const send = (el: Element) => this.conn.send(el);
    // Senders we do not trust get not-authorized before their payload is even decoded.
    const authorize = (bare: string) => {
      if (!this.trusted(bare))
        throw new StanzaError('not-authorized', `${bare} is not allowed to talk to this agent`, 'unauthorized-sender');
    };
    this.rpc = new Rpc(send, this.log.child({ module: 'rpc' }), {
      maxConcurrent: options.maxConcurrentRequests ?? 2000,
      identity: () => ({ category: 'client', type: 'bot', name: `cloudgate ${this.kind}` }),
      authorize,
    });
    this.reliable = new Reliable(this.db, send, this.log.child({ module: 'reliable' }), {
      resendMs: options.resendMs ?? 5000,
      maxResendMs: 60000,
      maxStanzaSize: x.maxStanzaSize ?? 1024 * 1024,
      authorize,
    });
    this.presence = new Presence(this.kind, send, this.log.child({ module: 'presence' }), (b) => this.trusted(b));
    this.pubsub = new PubSub(
      options.pubsubService ?? `pubsub.${serverDomain}`,
      (to, type, p, t) => this.rpc.iq(to, type, p, t),
      this.db,
      this.log.child({ module: 'pubsub' }),
      () => this.bare,
    );
    this.chat = new ChatRouter(`cloudgate ${this.kind}`);
    this.flow = new FlowControl({ window: options.flowWindow ?? 4096, every: 256, stallMs: 5000 });

    this.conn.on('stanza', (el: Element) => this.onStanza(el));
    // While start() runs, it announces the first session itself (and awaits that).
    this.conn.on('status', (e: ConnectionEvent) => {
      if (!this.starting || e.type === 'offline') void this.onStatus(e);
    });
    this.presence.on('peer', (e: PeerEvent) => {
      if (e.type === 'offline') this.flow.release(e.peer.bare);
      this.emit('peer', e);
    });
  }

  get jid(): string {
    return this.conn.jid;
  }
  get bare(): string {
    return bareJid(this.conn.jid);
  }
  get isOnline(): boolean {
    return this.conn.isOnline;
  }

  use(module: AgentModule): this {
    this.modules.push(module);
    return this;
  }

  // ---- requests -------------------------------------------------------------------

  handle<Q, R>(def: RequestDef<Q, R>, fn: Handler<Q, R>): void {
    this.rpc.handle(def, fn);
  }

  request<Q, R>(def: RequestDef<Q, R>, to: string, req: Q, o?: { timeoutMs?: number }): Promise<R> {
    if (this.stopped) return Promise.reject(new StoppedError());
    return this.rpc.request(def, to, req, o);
  }

  /** Raw IQ for protocols outside cloudgate (disco, pubsub owner operations…). */
  iq(to: string, type: 'get' | 'set', payload: Element, timeoutMs?: number): Promise<Element | undefined> {
    return this.rpc.iq(to, type, payload, timeoutMs);
  }

  /** Hooks around handlers: priority < 100 runs before (auth), > 100 after. */
  filterRequests(name: string, priority: number, hook: Hook<RequestContext>): () => void {
    return this.rpc.filters.add(name, priority, hook);
  }

  filterMessages(
    name: string,
    priority: number,
    hook: Hook<MessageContext & { def: MessageDef<any>; payload: unknown }>,
  ): () => void {
    return this.reliable.filters.add(name, priority, hook);
  }

  // ---- messages -------------------------------------------------------------------

  onMessage<T>(def: MessageDef<T>, fn: MessageHandler<T>): void {
    this.reliable.handle(def, fn);
  }

  /** One-way, flow-controlled; not stored by us (ejabberd stores it if the peer is away). */
  async send<T>(def: MessageDef<T>, to: string, msg: T): Promise<void> {
    let credit = this.flow.before(bareJid(to));
    if (credit instanceof Promise) credit = await credit;
    const el = new Element('message', { to, type: 'normal' });
    el.cnode(def.payload.encode(msg));
    if (credit) el.cnode(credit);
    await this.conn.send(el);
  }

  /** Stored in our outbox, re-sent until acknowledged, de-duplicated by the receiver. */
  sendReliable<T>(def: MessageDef<T>, to: string, msg: T, id?: string): Promise<string> {
    return this.reliable.sendReliable(def, to, msg, id);
  }

  delivered(id: string): Promise<void> {
    return this.reliable.delivered(id);
  }
  get outboxSize(): number {
    return this.reliable.pending();
  }

  // ---- presence & pubsub ------------------------------------------------------------

  registerPresence(def: PresenceDef<any>): void {
    this.presence.register(def);
  }
  setPresence<T>(def: PresenceDef<T>, data: T): Promise<void> {
    return this.presence.set(def, data);
  }
  announceTo(jid: string): Promise<void> {
    return this.presence.announceTo(jid);
  }
  peers(kind?: string): Peer[] {
    return this.presence.list(kind);
  }
  onEvent<T>(
    def: EventDef<T>,
    fn: (payload: T, meta: { node: string; itemId: string; catchUp: boolean }) => Promise<void> | void,
  ): void {
    this.pubsub.on(def, fn);
  }

  // ---- life cycle ---------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) throw new Error('agent already started');
    this.started = true;
    this.starting = true;
    try {
      for (const m of this.modules) await m.setup?.(this);
      await this.conn.start();
    } finally {
      this.starting = false;
    }
    await this.onStatus({ type: 'online', resumed: false, jid: this.conn.jid });
    this.reliable.start();
    for (const m of this.modules) await m.start?.(this);
    this.log.info({ jid: this.jid }, 'agent started');
  }

  private async onStatus(e: ConnectionEvent): Promise<void> {
    if (e.type === 'offline') {
      this.emit('status', { type: 'offline', reason: e.reason } satisfies AgentEvent);
      return;
    }
    if (!this.started) return;
    if (e.resumed) {
      // XEP-0198 resumption: same session, peers and server state intact.
      this.emit('status', { type: 'online', resumed: true } satisfies AgentEvent);
      return;
    }
    // A new session (first, or after the server lost the old one): peers do not know us.
    this.presence.clear();
    this.presence.renew();
    try {
      await this.presence.broadcast();
      await this.reliable.resendAll();
    } catch (err) {
      this.log.warn({ err }, 'could not announce the new session');
    }
    this.emit('status', { type: 'online', resumed: false } satisfies AgentEvent);
  }

  /** Graceful stop: presence unavailable, pending requests failed with a clear error. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const m of [...this.modules].reverse()) {
      try {
        await m.stop?.(this);
      } catch (err) {
        this.log.warn({ err, module: m.name }, 'module stop failed');
      }
    }
    this.reliable.stop();
    this.flow.releaseAll();
    if (this.conn.isOnline) {
      const bye = new Element('presence', { type: 'unavailable' });
      await this.conn.send(bye).catch(() => {});
      for (const t of this.presence.allTargets())
        await this.conn.send(new Element('presence', { type: 'unavailable', to: t })).catch(() => {});
    }
    this.rpc.failAll(new StoppedError(`agent ${this.kind} stopped before the request completed`));
    await this.conn.stop();
    this.log.info('agent stopped');
  }

  // ---- dispatch ---------------------------------------------------------------------

  private onStanza(el: Element): void {
    try {
      switch (el.name) {
        case 'iq':
          this.rpc.onIq(el);
          break;
        case 'presence':
          this.presence.onPresence(el);
          break;
        case 'message':
          void this.onMessageStanza(el);
          break;
        default:
          break;
      }
    } catch (err) {
      this.log.error({ err }, 'stanza dispatch failed');
    }
  }

  private async onMessageStanza(el: Element): Promise<void> {
    const from = String(el.attrs.from ?? '');
    try {
      if (el.attrs.type === 'error') {
        const err = StanzaError.fromElement(el.getChild('error'));
        if (err.condition === 'service-unavailable' || err.condition === 'recipient-unavailable')
          this.flow.release(bareJid(from));
        // Keyed by sender only: the condition is whatever the (maybe hostile) sender wrote.
        this.warn(
          `msg-error ${bareJid(from)}`,
          { from, condition: err.condition, reason: err.message },
          'message bounced',
        );
        return;
      }
      const ack = el.getChild('credit-ack', flowWire.NS_FLOW);
      if (ack) {
        const seq = decodedSeq(flowWire.CreditAck, ack);
        if (seq) this.flow.onAck(bareJid(from), seq);
        return;
      }
      if (el.attrs.type === 'chat') {
        await this.onChat(el);
        return;
      }
      if (await this.pubsub.onMessage(el)) return;
      const handled = await this.reliable.onMessage(el);
      if (!handled) this.onUnknownMessage(el);
      const credit = el.getChild('credit', flowWire.NS_FLOW);
      const seq = credit && decodedSeq(flowWire.Credit, credit);
      if (seq) {
        const a = new Element('message', { to: from, type: 'normal' });
        a.cnode(flowWire.CreditAck.payload.encode({ seq }));
        await this.conn.send(a).catch(() => {});
      }
    } catch (err) {
      this.log.error({ err, from }, 'message dispatch failed');
    }
  }

  private onUnknownMessage(el: Element): void {
    const payload = el
      .getChildElements()
      .find((c) => c.attrs.xmlns && c.name !== 'body' && c.name !== 'delay' && c.name !== 'request');
    if (!payload || el.attrs.type === 'headline' || !el.attrs.from || !String(el.attrs.from).includes('@')) return;
    const from = String(el.attrs.from);
    const bare = bareJid(from);
    // Keyed by sender only: a hostile one can send a new namespace every time.
    this.warn(
      `unknown-msg ${bare}`,
      { from, ns: payload.attrs.xmlns, name: payload.name },
      'message with an unknown payload',
    );
    const err = this.trusted(bare)
      ? new StanzaError(
          'service-unavailable',
          `no handler for <${payload.name} xmlns='${payload.attrs.xmlns}'/>`,
          'unknown-payload',
        )
      : new StanzaError('not-authorized', `${bare} is not allowed to talk to this agent`, 'unauthorized-sender');
    const r = new Element('message', { to: from, type: 'error', id: el.attrs.id });
    r.cnode(err.toElement());
    this.conn.send(r).catch(() => {});
  }

  private async onChat(el: Element): Promise<void> {
    const from = String(el.attrs.from ?? '');
    if (!from || bareJid(from) === this.bare) return;
    let line: chatWire.ChatLine;
    try {
      line = chatWire.ChatMessage.decode(el);
    } catch (err) {
      // No body is a chat state notification, not a command; a body too long gets told so.
      if (el.getChild('body') && !el.getChild('reply', chatWire.NS_CHAT))
        await this.sendChat(from, `Could not read that: ${(err as Error).message}.`);
      return;
    }
    // Another agent's reply is not a command: answering it would start a reply loop.
    if (line.reply) return;
    const body = line.body;
    const ctx: ChatContext = {
      from,
      bare: bareJid(from),
      log: this.log.child({ module: 'chat', from }),
      reply: async (text: string) => {
        await this.sendChat(from, text);
      },
    };
    const out = await this.chat.dispatch(body.slice(0, 4096), ctx);
    await this.sendChat(from, out);
  }

  async sendChat(to: string, text: string): Promise<void> {
    const m = chatWire.ChatMessage.encode({ body: text, reply: true });
    m.attrs.to = to;
    await this.conn.send(m);
  }
}

/** The seq of a credit or credit-ack, or undefined when it does not decode (it is dropped). */
function decodedSeq(def: MessageDef<flowWire.CreditPayload>, el: Element): number | undefined {
  try {
    return def.payload.decode(el).seq;
  } catch {
    return undefined;
  }
}
