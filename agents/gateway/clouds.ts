/**
 * The cloud agents this gateway works with: the configured ones (bare JIDs, best first),
 * which of them are online (their presence, with free capacity), and the requests the
 * gateway makes of them (Discover, ListInstances). Reports from anything else are not
 * trusted.
 */
import { EventEmitter } from 'node:events';
import type { Agent, Logger, Peer, PeerEvent } from '../../core/index.js';
import { bareJid } from '../../core/index.js';
import { cloud as proto } from '../../protocols/index.js';
import type { CloudPresenceData as CloudData, DiscoverRequest, ListedInstance } from './wire.js';

export interface CloudInfo {
  readonly jid: string;
  /** The cloud's own name from its presence, or its JID while it was never seen. */
  readonly name: string;
  readonly rank: number;
  readonly online: boolean;
  /** The full JID requests go to while online. */
  readonly fullJid?: string;
  readonly data?: CloudData;
}

export interface DiscoverAnswer {
  readonly accept: boolean;
  readonly max: number;
  readonly reason?: string;
}

export function createClouds({ agent, jids, log }: { agent: Agent; jids: readonly string[]; log: Logger }) {
  const configured = jids.map((j) => j.toLowerCase());
  const names = new Map<string, string>();
  const events = new EventEmitter();

  const peerOf = (bare: string): Peer | undefined => agent.peers('cloud').find((p) => p.bare === bare);

  const info = (bare: string): CloudInfo => {
    const p = peerOf(bare);
    const data = p?.data as CloudData | undefined;
    if (data?.name) names.set(bare, data.name);
    return {
      jid: bare,
      name: data?.name ?? names.get(bare) ?? bare,
      rank: configured.indexOf(bare),
      online: !!p,
      ...(p ? { fullJid: p.jid } : {}),
      ...(data ? { data } : {}),
    };
  };

  agent.on('peer', (e: PeerEvent) => {
    if (e.peer.kind !== 'cloud' || !configured.includes(e.peer.bare)) return;
    if (e.type === 'online') {
      log.info({ cloud: e.peer.bare }, 'cloud agent online');
      events.emit('online', e.peer.bare);
    } else if (e.type === 'offline') {
      log.info({ cloud: e.peer.bare }, 'cloud agent offline');
      events.emit('offline', e.peer.bare);
    }
  });

  return {
    events,
    isCloud: (jid: string): boolean => configured.includes(bareJid(jid)),
    list: (): CloudInfo[] => configured.map(info),
    get: info,
    /** The cloud a definition's `clouds` entry names (by presence name or JID). */
    resolve(nameOrJid: string): string | undefined {
      const l = nameOrJid.toLowerCase();
      return configured.find((c) => c === l || info(c).name.toLowerCase() === l);
    },
    /** Directed presence to every configured cloud, so they learn of us (they answer with theirs). */
    async announce(): Promise<void> {
      for (const c of configured)
        await agent.announceTo(c).catch((err) => log.warn({ err, cloud: c }, 'could not announce to cloud'));
    },
    /** "Can you host this for this user?"; an unreachable cloud is a refusal, not an error. */
    async discover(bare: string, req: DiscoverRequest): Promise<DiscoverAnswer> {
      const c = info(bare);
      if (!c.fullJid) return { accept: false, max: 0, reason: 'offline' };
      try {
        return await agent.request(proto.Discover, c.fullJid, req, { timeoutMs: 8000 });
      } catch (err) {
        log.warn({ err, cloud: bare }, 'discover failed');
        return { accept: false, max: 0, reason: `discover failed: ${(err as Error).message}` };
      }
    },
    /** The cloud's own list of instances (of one deployment, or all it keeps for us). */
    async listInstances(bare: string, deployment?: string): Promise<ListedInstance[] | undefined> {
      const c = info(bare);
      if (!c.fullJid) return undefined;
      try {
        const r = await agent.request(proto.ListInstances, c.fullJid, { deployment, owner: undefined });
        return r.instances;
      } catch (err) {
        log.warn({ err, cloud: bare }, 'list instances failed');
        return undefined;
      }
    },
  };
}

export type Clouds = ReturnType<typeof createClouds>;
