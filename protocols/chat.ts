/**
 * urn:cloudgate:chat:1 — commands for people, in any XMPP client: a chat message
 * (RFC 6121 §5.2.2, type='chat') whose <body/> is a command line. An agent's answer is a
 * chat message too and carries <reply xmlns='urn:cloudgate:chat:1'/>, so an agent never
 * takes another agent's answer for a command (two agents would answer each other forever).
 *
 *   <message type='chat'><body>deploy mycluster --n 3</body></message>
 *   <message type='chat'><body>deployment d-1 created</body><reply xmlns='urn:cloudgate:chat:1'/></message>
 *
 * Encoded without `to`/`from`/`id`: the sender adds the address, the server stamps `from`.
 * Error conditions: bad-request / unknown-payload for a stanza that is not a chat message;
 * bad-request / invalid-field when the body is missing (a chat state notification, say) or
 * too long. Chat never answers a bad stanza with an error: the agent ignores it.
 */
import { Element } from 'ltx';
import type { PayloadDef } from './define.js';
import { StanzaError } from './errors.js';

export const NS_CHAT = 'urn:cloudgate:chat:1';
export const NS_CLIENT = 'jabber:client';
/** Longest body taken as a command or sent as an answer (characters). */
export const MAX_CHAT_BODY = 64 * 1024;

export interface ChatLine {
  body: string;
  /** An agent's answer, not a command. */
  reply: boolean;
}

export const ChatMessage: PayloadDef<ChatLine> = {
  ns: NS_CLIENT,
  name: 'message',
  encode({ body, reply }) {
    const m = new Element('message', { type: 'chat' });
    m.c('body').t(body);
    if (reply) m.c('reply', { xmlns: NS_CHAT });
    return m;
  },
  decode(el) {
    const ns = el.attrs.xmlns ?? NS_CLIENT;
    if (el.name !== 'message' || ns !== NS_CLIENT || el.attrs.type !== 'chat') {
      throw new StanzaError(
        'bad-request',
        `expected <message type='chat'/>, got <${el.name} type='${el.attrs.type ?? ''}'/>`,
        'unknown-payload',
      );
    }
    const body = el.getChild('body');
    if (!body) throw new StanzaError('bad-request', 'invalid message/body: missing', 'invalid-field');
    const text = body.getText();
    if (text.length > MAX_CHAT_BODY)
      throw new StanzaError(
        'bad-request',
        `invalid message/body: longer than ${MAX_CHAT_BODY} characters (${text.length})`,
        'invalid-field',
      );
    return { body: text, reply: !!el.getChild('reply', NS_CHAT) };
  },
};
