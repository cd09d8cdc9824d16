/**
 * urn:cloudgate:presence:1 — what an agent's available presence carries: its kind and,
 * for kinds that define one, the kind's typed payload (CloudPresence in cloud.ts,
 * InstancePresence in instance.ts; an agent of the user's own may define its own).
 *
 *   <presence><agent xmlns='urn:cloudgate:presence:1' kind='cloud' session='…'><cloud xmlns='urn:cloudgate:cloud:1' …/></agent></presence>
 *
 * `session` (optional, 1 to 64 of A-Z a-z 0-9 _ -) is new with each session the agent
 * opens. An agent with a fixed resource that comes back (a restart, a login that could
 * not resume) has the same full JID; the server may deliver the old session's
 * unavailable presence after the new one's available one, and the session tells the two
 * apart (core/presence.ts).
 *
 * Error conditions: bad-request / unknown-payload for an element that is not <agent/>;
 * bad-request / invalid-field for a missing or malformed kind, more than one payload, or
 * a payload its kind's definition refuses (the text names the field). Presence is never
 * answered with an error: the receiver ignores a peer whose <agent/> does not decode.
 */
import { Element } from 'ltx';
import type { PayloadDef, PresenceDef } from './define.js';
import { StanzaError } from './errors.js';

export const NS_PRESENCE = 'urn:cloudgate:presence:1';

const KIND = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SESSION = /^[A-Za-z0-9_-]{1,64}$/;

/** The wrapper, with the kind's payload still encoded. */
export interface AgentElement {
  kind: string;
  session?: string;
  payload?: Element;
}

export function encodeAgent(kind: string, payload?: Element, session?: string): Element {
  const agent = new Element('agent', { xmlns: NS_PRESENCE, kind, ...(session === undefined ? {} : { session }) });
  if (payload) agent.cnode(payload);
  return agent;
}

export function decodeAgent(el: Element): AgentElement {
  if (el.name !== 'agent' || el.attrs.xmlns !== NS_PRESENCE) {
    throw new StanzaError(
      'bad-request',
      `expected <agent xmlns='${NS_PRESENCE}'/>, got <${el.name} xmlns='${el.attrs.xmlns ?? ''}'/>`,
      'unknown-payload',
    );
  }
  const kind = el.attrs.kind;
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    throw new StanzaError(
      'bad-request',
      `invalid agent/@kind: ${kind === undefined ? 'missing' : `'${String(kind).slice(0, 64)}' is not a kind name`}`,
      'invalid-field',
    );
  }
  const session = el.attrs.session;
  if (session !== undefined && (typeof session !== 'string' || !SESSION.test(session)))
    throw new StanzaError(
      'bad-request',
      `invalid agent/@session: '${String(session).slice(0, 64)}' is not 1 to 64 of A-Z a-z 0-9 _ -`,
      'invalid-field',
    );
  const children = el.getChildElements();
  if (children.length > 1)
    throw new StanzaError('bad-request', `invalid agent: ${children.length} payloads, at most one`, 'invalid-field');
  return {
    kind,
    ...(session === undefined ? {} : { session }),
    ...(children.length ? { payload: children[0] } : {}),
  };
}

/** An agent's presence with its payload decoded by the definition of its kind. */
export interface AgentPresence {
  kind: string;
  session?: string;
  data?: unknown;
}

/**
 * The whole <agent/> element as one payload: the kind's payload is decoded (and encoded)
 * by the PresenceDef registered for it; a kind without one carries no payload.
 */
export function agentPresence(defs: readonly PresenceDef<any>[]): PayloadDef<AgentPresence> {
  const byKind = new Map(defs.map((d) => [d.agentKind, d]));
  return {
    ns: NS_PRESENCE,
    name: 'agent',
    encode: ({ kind, session, data }) => {
      const def = byKind.get(kind);
      return encodeAgent(kind, def && data !== undefined ? def.payload.encode(data) : undefined, session);
    },
    decode: (el) => {
      const { kind, session, payload } = decodeAgent(el);
      const def = byKind.get(kind);
      const head = session === undefined ? { kind } : { kind, session };
      if (!payload) return head;
      if (!def)
        throw new StanzaError(
          'bad-request',
          `invalid agent: kind '${kind}' defines no payload, got <${payload.name}/>`,
          'invalid-field',
        );
      return { ...head, data: def.payload.decode(payload) };
    },
  };
}
