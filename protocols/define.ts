/**
 * Messages are defined once and used on both sides (Temporal's defineSignal pattern):
 *
 *   const Alloc = defineRequest(NS, 'alloc', { request: object({...}), response: object({...}) });
 *   agent.handle(Alloc, async (req, ctx) => ({ ... }));   // callee
 *   const res = await agent.request(Alloc, to, { ... });  // caller: typed result
 */
import { Element } from 'ltx';
import { FieldError, type ObjectCodec, type ObjectOf } from './schema.js';
import { StanzaError } from './errors.js';

export interface PayloadDef<T> {
  readonly ns: string;
  readonly name: string;
  encode(v: T): Element;
  /** Validates; throws StanzaError(bad-request, 'invalid-field') naming the field. */
  decode(el: Element): T;
}

function payload<S extends Record<string, any>>(
  ns: string,
  name: string,
  codec: ObjectCodec<S>,
): PayloadDef<ObjectOf<S>> {
  return {
    ns,
    name,
    encode: (v) => codec.write(new Element(name, { xmlns: ns }), v),
    decode: (el) => {
      if (el.name !== name || el.attrs.xmlns !== ns) {
        throw new StanzaError(
          'bad-request',
          `expected <${name} xmlns='${ns}'/>, got <${el.name} xmlns='${el.attrs.xmlns ?? ''}'/>`,
          'unknown-payload',
        );
      }
      try {
        return codec.read(el, name);
      } catch (err) {
        if (err instanceof FieldError) throw new StanzaError('bad-request', `invalid ${err.message}`, 'invalid-field');
        throw err;
      }
    },
  };
}

export interface RequestDef<Req, Res> {
  readonly kind: 'request';
  readonly key: string;
  readonly iqType: 'get' | 'set';
  readonly request: PayloadDef<Req>;
  readonly response: PayloadDef<Res>;
  readonly timeoutMs: number;
}

export function defineRequest<Q extends Record<string, any>, R extends Record<string, any>>(
  ns: string,
  name: string,
  o: { request: ObjectCodec<Q>; response: ObjectCodec<R>; iqType?: 'get' | 'set'; timeoutMs?: number },
): RequestDef<ObjectOf<Q>, ObjectOf<R>> {
  return {
    kind: 'request',
    key: `${ns} ${name}`,
    iqType: o.iqType ?? 'set',
    request: payload(ns, name, o.request),
    response: payload(ns, `${name}-result`, o.response),
    timeoutMs: o.timeoutMs ?? 30000,
  };
}

/** A one-way message; `reliable` ones are stored offline, acked, re-sent, de-duplicated. */
export interface MessageDef<T> {
  readonly kind: 'message';
  readonly key: string;
  readonly payload: PayloadDef<T>;
}

export function defineMessage<S extends Record<string, any>>(
  ns: string,
  name: string,
  codec: ObjectCodec<S>,
): MessageDef<ObjectOf<S>> {
  return { kind: 'message', key: `${ns} ${name}`, payload: payload(ns, name, codec) };
}

/** A PubSub item payload. */
export interface EventDef<T> {
  readonly kind: 'event';
  readonly key: string;
  readonly payload: PayloadDef<T>;
}

export function defineEvent<S extends Record<string, any>>(
  ns: string,
  name: string,
  codec: ObjectCodec<S>,
): EventDef<ObjectOf<S>> {
  return { kind: 'event', key: `${ns} ${name}`, payload: payload(ns, name, codec) };
}

/** The typed payload an agent kind carries in its presence. */
export interface PresenceDef<T> {
  readonly kind: 'presence';
  readonly agentKind: string;
  readonly payload: PayloadDef<T>;
}

export function definePresence<S extends Record<string, any>>(
  ns: string,
  agentKind: string,
  codec: ObjectCodec<S>,
): PresenceDef<ObjectOf<S>> {
  return { kind: 'presence', agentKind, payload: payload(ns, agentKind, codec) };
}

export type RequestOf<D> = D extends RequestDef<infer Q, any> ? Q : never;
export type ResponseOf<D> = D extends RequestDef<any, infer R> ? R : never;
