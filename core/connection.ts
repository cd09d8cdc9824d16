/**
 * One XMPP session (client or component) that stays up: reconnects with backoff and
 * jitter, resumes the stream (XEP-0198) when the server still holds it, and paces
 * sending so the number of stanzas the server has not acknowledged stays under a
 * window, however many the application queues: they are held in memory until
 * acknowledged and re-sent by a resumption. (ejabberd's max_ack_queue limits the other
 * direction, the server's stanzas to us; core/flow.ts protects our peers' queues.)
 */
import { EventEmitter } from 'node:events';
import type { Element } from 'ltx';
import type { Logger } from 'pino';
import { xml } from '@xmpp/client-core';
import { createClient } from './xmpp/client.js';
import { createComponent } from './xmpp/component.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { ServerRotation } from './servers.js';
import { CloudgateError, StanzaTooLargeError, overLimit } from './errors.js';

const NS_SM = 'urn:xmpp:sm:3';
/** A login that has not produced a session by then is abandoned and retried. */
const LOGIN_TIMEOUT_MS = 30_000;
/**
 * A login step the server has not answered by then is abandoned and retried: each step
 * (TLS, SASL, bind, stream management) is one round trip, and waiting out the whole
 * login timeout only ends with the server dropping the stream as idle.
 */
const LOGIN_STALL_MS = 12_000;
/**
 * Refused logins a session that was online takes before it stops reconnecting. Its
 * credentials worked, so a refusal may be passing: a cluster node that has just lost its
 * peer refused a correct SCRAM login under load ("Nonce mismatch") and took the next one.
 */
const MAX_REFUSALS = 5;

export interface ConnectionOptions {
  kind: 'client' | 'component';
  /** xmpp://host:port */
  service: string;
  /**
   * The nodes of a cluster, xmpp://host:port each, tried in turn when the current one
   * cannot be reached (see servers.ts); `service` alone when absent.
   */
  services?: string[];
  /** Client: the account's domain. Component: the component's own domain. */
  domain: string;
  username?: string;
  password: string;
  isToken?: boolean;
  /** Fresh secret for each (re)login (minted or renewed tokens). */
  refresh?: () => Promise<string>;
  resource?: string;
  ca?: string;
  /** SASL on an unencrypted stream to a loopback address (tests without TLS only). */
  insecureLoopback?: boolean;
  backoff?: BackoffOptions;
  /** Attempts before start() gives up (default: keep trying). */
  maxStartAttempts?: number;
  /** Refused logins (not-authorized and the like) after the session was online before the reconnecting stops (default 5). */
  maxRefusals?: number;
  /** A login step unanswered this long is abandoned and retried (default 12 s). */
  loginStallMs?: number;
  /**
   * Unacknowledged stanzas allowed in flight to the server (stream management). An ack
   * is asked for at half of it, so at most half a window goes out per ack round trip:
   * 2000 held one-way messages to about 25,000/s on a busy 2-core machine, 8192 lets
   * the server be the limit.
   */
  window?: number;
  /** The server's max_stanza_size in bytes (1 MiB in ejabberd/'s configuration). */
  maxStanzaSize?: number;
  log: Logger;
}

export class ConnectionError extends CloudgateError {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: ErrorOptions,
  ) {
    super('CG_CONNECTION', message, options);
  }
}

export type ConnectionEvent = { type: 'online'; resumed: boolean; jid: string } | { type: 'offline'; reason?: string };

export class Connection extends EventEmitter {
  private entity: any;
  private stopping = false;
  /** The server's stream error before it closed the stream: the reason the disconnect itself does not carry. */
  private streamError: string | undefined;
  /** start() retries on its own; a disconnect meanwhile must not start a second loop. */
  private starting = false;
  private online = false;
  private attempt = 0;
  private readonly abort = new AbortController();
  private waitingOnline: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  /** Senders waiting for the server to acknowledge earlier stanzas (a FIFO line). */
  private waitingDrain: Array<() => void> = [];
  private drainHead = 0;
  /** Senders let go from the line that have not handed their stanza over yet. */
  private granted = 0;
  /** Stanzas being written: stream management queues a stanza only once it is written. */
  private writing = 0;
  private ackRequested = false;
  private reconnecting = false;
  /** The login attempt in progress (reconnections). */
  private attempting?: { resolve: () => void; fail: (err: Error) => void };
  private corked: any = null;
  /** While logging in: the last element the server sent, to say where a stalled login stopped. */
  private lastInput = '';
  /** While logging in: restarted by every element from the server. */
  private stallTimer: NodeJS.Timeout | undefined;
  readonly window: number;
  private readonly servers: ServerRotation;
  jid = '';

  constructor(readonly options: ConnectionOptions) {
    super();
    this.window = options.window ?? 8192;
    const o = options;
    this.servers = new ServerRotation(o.services?.length ? o.services : [o.service], o.backoff);
    this.entity =
      o.kind === 'client'
        ? createClient({
            service: o.service,
            domain: o.domain,
            username: o.username ?? '',
            password: o.password,
            isToken: o.isToken,
            refresh: o.refresh,
            resource: o.resource,
            ca: o.ca,
            insecureLoopback: o.insecureLoopback,
          })
        : createComponent({ service: o.service, domain: o.domain, password: o.password });
    guardStanzaSize(this.entity, options.maxStanzaSize ?? 1024 * 1024, o.kind === 'component');
    dropLateData(this.entity, o.log);
    // Whatever handling input writes (answers, acks) is corked with what follows.
    // While logging in, each element is progress: it restarts the stall timer.
    this.entity.on('element', (el: Element) => {
      if (this.online) {
        this.cork('turn');
        return;
      }
      this.lastInput = `<${el.name}${el.attrs.type ? ` type="${el.attrs.type}"` : ''}>`;
      this.stallTimer?.refresh();
    });
    this.entity.on('stanza', (el: Element) => this.emit('stanza', el));
    this.entity.on('error', (err: Error & { condition?: string; text?: string }) => {
      if (err?.name !== 'StreamError') {
        o.log.debug({ err }, 'xmpp error');
        return;
      }
      // The server is ending the session and says why (policy-violation "Too many unacked
      // stanzas", conflict, system-shutdown...): an operator wants that, not just "offline".
      this.streamError = `stream error ${err.condition}${err.text ? ` (${err.text})` : ''}`;
      o.log.warn({ condition: err.condition, text: err.text, server: this.servers.current }, 'server ended the stream');
    });
    this.entity.on('online', (jid: unknown) => this.setOnline(false, String(jid)));
    this.entity.on('disconnect', ({ reason }: { reason?: Error } = {}) => this.onDisconnect(reason));
    const sm = this.entity.streamManagement;
    if (sm) {
      sm.on('resumed', () => this.setOnline(true, this.jid));
      sm.on('ack', () => this.checkDrain());
      sm.on('fail', (stanza: Element) => this.emit('lost', stanza));
      // The stock 250 ms debounce before <r/> caps throughput; we ask for acks ourselves.
      sm.requestAckDebounce = 50;
    }
  }

  get isOnline(): boolean {
    return this.online;
  }
  get status(): string {
    return this.entity.status;
  }
  /** The server the session is on (or the next login attempt goes to). */
  get service(): string {
    return this.servers.current;
  }

  private setOnline(resumed: boolean, jid: string): void {
    this.attempting?.resolve();
    this.online = true;
    this.attempt = 0;
    this.servers.succeeded();
    this.jid = jid || this.jid;
    for (const w of this.waitingOnline.splice(0)) w.resolve();
    this.checkDrain();
    this.emit('status', { type: 'online', resumed, jid: this.jid } satisfies ConnectionEvent);
  }

  private onDisconnect(reason?: Error): void {
    const wasOnline = this.online;
    this.online = false;
    // The server's own word first: a reset of the socket after its stream error is its consequence.
    const why = this.streamError ?? reason?.message;
    this.streamError = undefined;
    if (wasOnline) this.emit('status', { type: 'offline', reason: why } satisfies ConnectionEvent);
    this.attempting?.fail(
      new ConnectionError(`disconnected while logging in${reason ? `: ${describe(reason)}` : ''}`, false, {
        cause: reason,
      }),
    );
    if (!this.stopping && !this.starting && !this.reconnecting) void this.reconnectLoop();
  }

  /** Connects; resolves once online. Authentication failures are not retried. */
  async start(): Promise<void> {
    const max = this.options.maxStartAttempts ?? Infinity;
    this.starting = true;
    try {
      await this.startLoop(max);
    } finally {
      this.starting = false;
    }
  }

  private async startLoop(max: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // Never xmpp.js's start(): when the server resets the connection while the stream
        // opens, it throws and leaves its own 'online' promise rejected and unhandled, which
        // ends the whole process. connectOpen() handles every failure of the attempt.
        await this.connectOpen();
        return;
      } catch (err) {
        const permanent = isPermanent(err);
        if (permanent || attempt + 1 >= max || this.stopping) {
          this.stopping = true; // a connection that failed to start is finished: no reconnect loop
          this.abort.abort();
          await this.entity.stop().catch(() => {});
          throw new ConnectionError(
            `cannot log in to ${this.servers.current} as ${this.who()}: ${describe(err)}`,
            permanent,
            { cause: err },
          );
        }
        const failedOn = this.servers.current;
        const d = this.servers.failed();
        this.options.log.warn(
          { attempt: attempt + 1, delayMs: d, server: failedOn, next: this.servers.current, reason: describe(err) },
          'connect failed, retrying',
        );
        await sleep(d, this.abort.signal);
      }
    }
  }

  private who(): string {
    return this.options.kind === 'client' ? `${this.options.username}@${this.options.domain}` : this.options.domain;
  }

  /**
   * One login attempt on the existing entity (resuming the stream when the server still
   * holds it). It ends when the session is online, or fails: on a disconnect, an error
   * during negotiation (which xmpp.js only emits), or after loginTimeoutMs, so a server
   * that hangs up or stalls mid-login cannot leave the reconnect loop waiting forever.
   */
  private async connectOpen(): Promise<void> {
    const { domain } = this.entity.options;
    const service = this.servers.current;
    this.entity.options.service = service;
    let timer: NodeJS.Timeout | undefined;
    this.lastInput = '';
    const online = new Promise<void>((resolve, reject) => {
      this.attempting = { resolve, fail: reject };
      const where = () =>
        `stream ${this.entity.status}${this.lastInput ? `, last from the server: ${this.lastInput}` : ''}`;
      timer = setTimeout(
        () => reject(new ConnectionError(`no session within ${LOGIN_TIMEOUT_MS} ms (${where()})`, false)),
        LOGIN_TIMEOUT_MS,
      );
      const stallMs = this.options.loginStallMs ?? LOGIN_STALL_MS;
      this.stallTimer = setTimeout(
        () =>
          reject(new ConnectionError(`login stalled: nothing from the server for ${stallMs} ms (${where()})`, false)),
        stallMs,
      );
    });
    online.catch(() => {});
    const onError = (err: Error) => this.attempting?.fail(err);
    const waiting = attemptListeners(this.entity);
    this.entity.on('error', onError);
    let socket: unknown;
    try {
      const opening = (async () => {
        await this.entity.connect(service);
        await this.entity.open({ domain });
      })();
      socket = this.entity.socket; // connect() attaches it before its first await
      opening.catch(() => {}); // its failure also fails the attempt, through the race or a disconnect
      await Promise.race([opening, online]);
      await online;
    } catch (err) {
      this.abandon(socket, waiting);
      throw err;
    } finally {
      clearTimeout(timer);
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
      this.entity.off('error', onError);
      this.attempting = undefined;
    }
  }

  /**
   * Ends a failed login attempt for good, at once: its sockets (TCP, and TLS over it once
   * STARTTLS began) stop feeding the stream and are closed, and whatever of xmpp.js's
   * negotiation still waits (a STARTTLS answer, a SASL exchange, a stream header) stops
   * listening, so it can never take an element of the next attempt for its own answer.
   */
  private abandon(socket: unknown, waiting: () => void): void {
    const e = this.entity;
    waiting();
    const current = e.socket;
    for (const s of new Set([socket, current, current?.socket])) {
      if (!s) continue;
      e.socket = s;
      e._detachSocket(); // unsubscribes the entity's listeners from s, sets socket to null
      (s as { destroy?: () => void }).destroy?.();
    }
    e.socket = null;
    e._detachParser();
    if (e.status !== 'disconnect' && e.status !== 'offline') e._status('disconnect', { clean: false });
  }

  /** One loop at a time, however many disconnects its own failed attempts cause. */
  private async reconnectLoop(): Promise<void> {
    this.reconnecting = true;
    try {
      await this.reconnectAttempts();
    } finally {
      this.reconnecting = false;
    }
  }

  private async reconnectAttempts(): Promise<void> {
    // The first attempt goes back to the same server, where the stream may still resume.
    let d = backoffDelay(0, this.options.backoff);
    let refusals = 0;
    while (!this.stopping && !this.online) {
      this.attempt++;
      await sleep(d, this.abort.signal);
      if (this.stopping || this.online) return;
      // A half-closed stream (a stream error before the socket closed) is closed first:
      // returning here would leave the agent offline for good.
      if (this.entity.status !== 'disconnect' && this.entity.status !== 'offline')
        await this.entity.disconnect().catch(() => {});
      if (this.stopping || this.online) return;
      try {
        await this.connectOpen();
        return;
      } catch (err) {
        const failedOn = this.servers.current;
        d = this.servers.failed();
        this.options.log.warn(
          { attempt: this.attempt, server: failedOn, next: this.servers.current, delayMs: d, reason: describe(err) },
          'reconnect failed',
        );
        if (isPermanent(err) && ++refusals >= (this.options.maxRefusals ?? MAX_REFUSALS)) {
          this.options.log.error(
            { refusals, server: failedOn, reason: describe(err) },
            'login refused every time: no more attempts until the agent is restarted',
          );
          this.emit('fatal', err);
          return;
        }
        if (this.entity.socket) await this.entity.disconnect().catch(() => {});
      }
    }
  }

  /** Resolves when the session is online (immediately if it is). */
  whenOnline(): Promise<void> {
    if (this.online) return Promise.resolve();
    if (this.stopping) return Promise.reject(new ConnectionError('connection stopped', true));
    return new Promise((resolve, reject) => this.waitingOnline.push({ resolve, reject }));
  }

  /**
   * Sends a stanza once the session is online and the flow-control window has room.
   * Writes in the same tick are corked into one TCP segment.
   */
  async send(el: Element): Promise<void> {
    for (;;) {
      if (!this.online) await this.whenOnline();
      const sm = this.entity.streamManagement;
      if (sm?.enabled) {
        const inFlight = sm.outbound_q.length + this.granted + this.writing;
        if (inFlight >= this.window / 2) this.requestAck();
        if (inFlight >= this.window || this.drainHead < this.waitingDrain.length) {
          // In line behind earlier senders: stanzas keep their order.
          await new Promise<void>((r) => this.waitingDrain.push(r));
          this.granted--;
          if (!this.online) await this.whenOnline();
        }
      }
      this.cork();
      this.writing++;
      try {
        await this.entity.send(el);
        return;
      } catch (err) {
        // A write the breaking connection did not take: the server has not counted it
        // (XEP-0198 counts whole stanzas), so, like the stanzas it has not acknowledged,
        // it goes out again once the session is back. Anything else is the caller's.
        if (err instanceof StanzaTooLargeError || this.stopping || !this.broken()) throw err;
        this.options.log.debug({ err }, 'write failed on a broken connection; will send again');
      } finally {
        this.writing--;
      }
      // Not whenOnline(): the disconnect may not have been noticed yet.
      await new Promise<void>((resolve, reject) => this.waitingOnline.push({ resolve, reject }));
    }
  }

  private broken(): boolean {
    const raw = this.entity.socket?.socket ?? this.entity.socket;
    return !this.online || this.entity.status !== 'online' || !raw || raw.destroyed === true;
  }

  private requestAck(): void {
    if (this.ackRequested) return;
    this.ackRequested = true;
    this.entity.send(xml('r', { xmlns: NS_SM })).catch(() => {});
  }

  /** Lets waiting senders go, in order, as far as the window has room. */
  private checkDrain(): void {
    const sm = this.entity.streamManagement;
    this.ackRequested = false;
    if (!this.online || this.drainHead === this.waitingDrain.length) return;
    let room = sm?.enabled ? this.window - sm.outbound_q.length - this.granted - this.writing : Infinity;
    while (room-- > 0 && this.drainHead < this.waitingDrain.length) {
      const w = this.waitingDrain[this.drainHead];
      this.waitingDrain[this.drainHead++] = undefined as never;
      this.granted++;
      w();
    }
    if (this.drainHead === this.waitingDrain.length) {
      this.waitingDrain = [];
      this.drainHead = 0;
    } else this.requestAck();
  }

  /**
   * Holds writes so that they leave as one TLS write (each costs a TLS record and a
   * system call): those of this tick (a burst of sends), or, while handling input, all
   * of this turn of the event loop (setImmediate runs right after the I/O), so an IQ
   * answer leaves together with the XEP-0198 <a/> the server asked for in the same read.
   */
  private cork(until: 'tick' | 'turn' = 'tick'): void {
    const raw = this.entity.socket?.socket ?? this.entity.socket;
    if (!raw?.cork || this.corked === raw) return;
    raw.cork();
    this.corked = raw;
    const uncork = () => {
      this.corked = null;
      raw.uncork();
    };
    if (until === 'turn') setImmediate(uncork);
    else process.nextTick(uncork);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    for (const w of this.waitingOnline.splice(0)) w.reject(new ConnectionError('connection stopped', true));
    for (const w of this.waitingDrain.splice(this.drainHead)) {
      this.granted++;
      w();
    }
    this.waitingDrain = [];
    this.drainHead = 0;
    this.online = false;
    try {
      await this.entity.stop();
    } catch {
      /* already closed */
    }
  }

  /** Drops the TCP connection without closing the stream (tests of resumption). */
  dropSocket(): void {
    const raw = this.entity.socket?.socket ?? this.entity.socket;
    raw?.destroy?.();
  }
}

/**
 * xmpp.js Connection#send serializes a stanza and writes it; this does the same, refusing
 * a stanza over the server's limit first (serializing once: it is on every send's path).
 * Resumption re-sends its queue through sendMany, which this leaves alone.
 */
function guardStanzaSize(entity: any, limit: number, component: boolean): void {
  entity.send = async (element: Element) => {
    // XEP-0114 §3: a component's stanzas carry 'from' (as @xmpp/component's own send does).
    if (component && entity.isStanza(element) && !element.attrs.from) element.attrs.from = entity.jid.toString();
    element.parent = entity.root;
    const s = element.toString();
    const bytes = overLimit(s, limit);
    if (bytes) throw new StanzaTooLargeError(bytes, limit);
    await entity.write(s);
    entity.emit('send', element);
  };
}

/**
 * Snapshots the entity's listeners for what a login step waits on; the returned function
 * removes those added since (by steps of an attempt that is being given up).
 */
function attemptListeners(entity: any): () => void {
  const events = ['nonza', 'element', 'open', 'error', 'online'];
  const before = new Map(events.map((ev) => [ev, new Set(entity.listeners(ev))]));
  return () => {
    for (const ev of events) for (const l of entity.listeners(ev)) if (!before.get(ev)!.has(l)) entity.off(ev, l);
  };
}

/**
 * Bytes that arrive after the stream was closed (its parser detached) on a socket that is
 * still attached, as when a server goes down while we log in, are dropped: @xmpp/connection
 * 0.14 would write them to a null parser and throw from the socket's 'data' event, which
 * ends the process. Installed before the first connect, when the data listener is bound.
 */
function dropLateData(entity: any, log: Logger): void {
  const onData = entity._onData as (data: Buffer) => void;
  entity._onData = function (this: { parser: unknown }, data: Buffer): void {
    if (!this.parser) {
      log.debug({ bytes: data.length }, 'data after the stream closed dropped');
      return;
    }
    onData.call(this, data);
  };
}

function describe(err: unknown): string {
  const e = err as { condition?: string; message?: string; code?: string };
  return e?.condition
    ? `${e.condition}${e.message && e.message !== e.condition ? ` (${e.message})` : ''}`
    : e?.message || e?.code || String(err);
}

/** Wrong credentials or policy refusals do not get better by retrying. */
function isPermanent(err: unknown): boolean {
  const c = (err as { condition?: string })?.condition;
  return (
    c === 'not-authorized' ||
    c === 'encryption-required' ||
    c === 'account-disabled' ||
    c === 'credentials-expired' ||
    c === 'invalid-mechanism' ||
    c === 'host-unknown'
  );
}
