import { randomBytes } from 'node:crypto';

/** Stanza ids: a per-process random prefix and a counter — unique, cheap, and sortable within a process. */
export function idGenerator(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  return () => `${prefix}-${(n++).toString(36)}`;
}

/** Ids that survive restarts and must never repeat (reliable messages, pubsub items). */
export function uniqueId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
}

export function bareJid(jid: string): string {
  const i = jid.indexOf('/');
  return (i < 0 ? jid : jid.slice(0, i)).toLowerCase();
}
