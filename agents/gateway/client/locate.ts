/**
 * Finding the gateway's session. An IQ to a user's bare JID is answered by the server,
 * not routed to a session (RFC 6120 §10.5.4), so a gateway that logs in as a client is
 * reached at its full JID: we send it our directed presence and it answers with its own
 * (core/presence.ts), which names the session. A full JID or a component domain is
 * used as given.
 */
import type { Agent, PeerEvent } from '../../../core/index.js';
import { GatewayUnreachableError } from './errors.js';

export function createLocator(agent: Agent, gateway: string, timeoutMs: number) {
  const bare = gateway.toLowerCase();
  const direct = gateway.includes('/') || !gateway.includes('@');
  let current: string | undefined = direct ? gateway : undefined;
  const waiters = new Set<(jid: string) => void>();

  agent.on('peer', (e: PeerEvent) => {
    if (direct || e.peer.bare !== bare) return;
    if (e.type === 'offline') {
      if (current === e.peer.jid) current = agent.peers().find((p) => p.bare === bare)?.jid;
      return;
    }
    current = e.peer.jid;
    for (const w of [...waiters]) w(current);
  });

  return {
    get jid(): string | undefined {
      return current;
    },
    /** The gateway's full JID; announces ourselves and waits for its answer when unknown. */
    async resolve(): Promise<string> {
      if (current) return current;
      // Announced again every second: one sent while the gateway restarts is lost (it
      // reaches no session, or the dying one), and nothing else would make it answer.
      const announce = () => {
        agent.announceTo(gateway).catch(() => {
          /* the timeout below reports it */
        });
      };
      let again: NodeJS.Timeout | undefined;
      const found = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(done);
          clearInterval(again);
          reject(
            new GatewayUnreachableError(
              `gateway ${gateway} is not online (no presence from it within ${timeoutMs} ms)`,
            ),
          );
        }, timeoutMs);
        const done = (jid: string) => {
          clearTimeout(timer);
          clearInterval(again);
          waiters.delete(done);
          resolve(jid);
        };
        waiters.add(done);
      });
      announce();
      again = setInterval(announce, 1000);
      return found;
    },
    /**
     * Forgets the session (it stopped answering); the next resolve() looks again. True when
     * it will: a gateway found by presence may come back, even under the same full JID.
     */
    forget(jid: string): boolean {
      if (direct) return false;
      if (current === jid) current = undefined;
      return true;
    },
  };
}

export type Locator = ReturnType<typeof createLocator>;
