/**
 * urn:cloudgate:flow:1 — end-to-end flow control for one-way messages (core/flow.ts says
 * why stream management is not enough). Every n-th message to a peer carries a credit
 * request beside its payload; the receiver answers it, in a message of its own, once it
 * has handled that message:
 *
 *   <message type='normal'><heartbeat …/><credit xmlns='urn:cloudgate:flow:1' seq='8'/></message>
 *   <message type='normal'><credit-ack xmlns='urn:cloudgate:flow:1' seq='8'/></message>
 *
 * `seq` counts the messages sent to that peer, from 1.
 * Error conditions: bad-request / invalid-field when seq is not a positive integer. Flow
 * control never answers with an error: a receiver drops a bad credit, a sender a bad ack.
 */
import { defineMessage } from './define.js';
import { object, int } from './schema.js';

export const NS_FLOW = 'urn:cloudgate:flow:1';

export interface CreditPayload {
  seq: number;
}

/** "Answer when you have handled this message." */
export const Credit = defineMessage(NS_FLOW, 'credit', object({ seq: int({ min: 1 }) }));

/** The answer: every message up to `seq` has been handled. */
export const CreditAck = defineMessage(NS_FLOW, 'credit-ack', object({ seq: int({ min: 1 }) }));
