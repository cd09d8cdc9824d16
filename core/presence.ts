/**
 * Presence is liveness. An agent's available presence carries
 * <agent xmlns='urn:cloudgate:presence:1' kind='…' session='…'> with its kind's typed
 * payload inside (protocols/presence.ts);
 * the live view of peers emits discriminated change events.
 *
 * An agent with a fixed resource that comes back (restarted, or a login that could not
 * resume) has the same full JID as before. The server replaces the old session with the
 * new one, and the old one's unavailable presence may reach us after the new one's
 * available presence. The session attribute tells them apart: a new session at a known
 * full JID is the peer gone and back (offline, then online), and the old session's
 * unavailable that follows is not taken for the new one's.
 */
import { EventEmitter } from 'node:events';
import { Element } from 'ltx';
import type { Logger } from 'pino';
import { presence as wire, type PresenceDef } from '../protocols/index.js';
import { bareJid, uniqueId } from './ids.js';

export const NS_PRESENCE = wire.NS_PRESENCE;

export interface Peer {
  jid: string;
  bare: string;
  kind: string;
  /** The peer's session, when it names one. */
  session?: string;
  /** The kind's decoded payload, if its PresenceDef is registered and it decoded. */
  data?: unknown;
  since: number;
  updated: number;
}

export type PeerEvent =
  | { type: 'online'; peer: Peer }
  | { type: 'changed'; peer: Peer; previous: Peer }
  | { type: 'offline'; peer: Peer };

/** How long a replaced session's unavailable presence is waited for (it comes in milliseconds). */
const REPLACED_MS = 60_000;

export class Presence extends EventEmitter {
  private peers = new Map<string, Peer>();
  /** Full JIDs whose replaced session's unavailable presence has not come yet, and since when. */
  private replaced = new Map<string, number>();
  /** Ours: new with each session (renew). */
  private session = uniqueId();
  private defs = new Map<string, PresenceDef<any>>();
  private own?: { def: PresenceDef<any>; data: unknown };
  /** Full or bare JIDs that get our directed presence. */
  readonly targets = new Set<string>();
  /**
   * Bare JIDs of trusted peers that announced themselves to us. A new session of ours
   * announces back to them: after a server restart both sides reconnect in any order,
   * and an announcement made while its target was still away is simply dropped.
   */
  readonly learned = new Set<string>();

  constructor(
    private readonly kind: string,
    private readonly send: (el: Element) => Promise<void>,
    private readonly log: Logger,
    private readonly trusted: (bare: string) => boolean,
  ) {
    super();
  }

  register(def: PresenceDef<any>): void {
    this.defs.set(def.agentKind, def);
  }

  /** A new session of ours: peers learn it from our next presence. */
  renew(): void {
    this.session = uniqueId();
  }

  /** Our presence stanza (available), with the typed payload if one is set. */
  stanza(to?: string): Element {
    const p = new Element('presence', to ? { to } : {});
    p.cnode(wire.encodeAgent(this.kind, this.own?.def.payload.encode(this.own.data), this.session));
    return p;
  }

  async set<T>(def: PresenceDef<T>, data: T): Promise<void> {
    this.own = { def, data };
    await this.broadcast();
  }

  /** Sends our presence to the server (for subscribers) and to each directed target. */
  async broadcast(): Promise<void> {
    await this.send(this.stanza());
    await Promise.all(this.allTargets().map((t) => this.send(this.stanza(t))));
  }

  /** Everyone who gets our directed presence (and our unavailable one when we stop). */
  allTargets(): string[] {
    return [...new Set([...this.targets, ...[...this.learned].filter((b) => !this.targets.has(b))])];
  }

  async announceTo(jid: string): Promise<void> {
    this.targets.add(jid);
    await this.send(this.stanza(jid));
  }

  onPresence(el: Element): void {
    const from = String(el.attrs.from ?? '');
    if (!from) return;
    const type = el.attrs.type;
    if (type === 'unavailable' || type === 'error') {
      const since = this.replaced.get(from);
      if (since !== undefined) {
        this.replaced.delete(from);
        if (type === 'unavailable' && Date.now() - since < REPLACED_MS) {
          this.log.debug({ from }, "a replaced session's unavailable presence, after its successor's");
          return;
        }
      }
      const peer = this.peers.get(from);
      if (peer) {
        this.peers.delete(from);
        if (![...this.peers.values()].some((p) => p.bare === peer.bare)) this.learned.delete(peer.bare);
        this.emit('peer', { type: 'offline', peer } satisfies PeerEvent);
      }
      return;
    }
    if (type) return; // subscription management is not used between agents
    const agent = el.getChild('agent', NS_PRESENCE);
    if (!agent) return;
    const bare = bareJid(from);
    if (!this.trusted(bare)) return;
    let decoded: wire.AgentElement;
    try {
      decoded = wire.decodeAgent(agent);
    } catch (err) {
      this.log.debug({ err, from }, 'undecodable presence');
      return;
    }
    const { kind, session, payload } = decoded;
    let data: unknown;
    const def = this.defs.get(kind);
    if (def && payload) {
      try {
        data = def.payload.decode(payload);
      } catch (err) {
        this.log.debug({ err, from }, 'undecodable presence payload');
      }
    }
    const now = Date.now();
    let previous = this.peers.get(from);
    if (previous?.session !== undefined && session !== undefined && previous.session !== session) {
      // The same full JID in a new session: the old one is gone, whether or not the
      // server has told us yet (its unavailable presence, when it comes, is passed over).
      this.peers.delete(from);
      this.replaced.set(from, now);
      this.emit('peer', { type: 'offline', peer: previous } satisfies PeerEvent);
      previous = undefined;
    }
    const peer: Peer = {
      jid: from,
      bare,
      kind,
      ...(session === undefined ? {} : { session }),
      data,
      since: previous?.since ?? now,
      updated: now,
    };
    this.peers.set(from, peer);
    if (previous) {
      this.emit('peer', { type: 'changed', peer, previous } satisfies PeerEvent);
    } else {
      this.learned.add(bare);
      this.emit('peer', { type: 'online', peer } satisfies PeerEvent);
      // A peer that (re)appears may have lost our directed presence (it restarted):
      // answer with ours so discovery is symmetric after either side restarts.
      this.send(this.stanza(from)).catch(() => {});
    }
  }

  list(kind?: string): Peer[] {
    const all = [...this.peers.values()];
    return kind ? all.filter((p) => p.kind === kind) : all;
  }

  get(jid: string): Peer | undefined {
    if (jid.includes('/')) return this.peers.get(jid);
    const b = jid.toLowerCase();
    for (const p of this.peers.values()) if (p.bare === b) return p;
    return undefined;
  }

  isOnline(jid: string): boolean {
    return this.get(jid) !== undefined;
  }

  /** All peers go offline when our own session ends. */
  clear(): void {
    for (const peer of this.peers.values()) this.emit('peer', { type: 'offline', peer } satisfies PeerEvent);
    this.peers.clear();
    this.replaced.clear();
  }
}
