// xmpp.js ships no TypeScript types; these declarations cover what core/xmpp uses.
declare module '@xmpp/client-core' {
  import type { Element } from 'ltx';
  export const xml: (name: string, attrs?: Record<string, unknown> | null, ...children: unknown[]) => Element;
  export const jid: (
    s: string,
    domain?: string,
  ) => { toString(): string; bare(): { toString(): string }; local: string; domain: string; resource: string };
  export class Client {
    constructor(options: Record<string, unknown>);
    [k: string]: any;
  }
}
declare module '@xmpp/tcp' {
  const f: (x: { entity: unknown }) => unknown;
  export default f;
}
declare module '@xmpp/middleware' {
  const f: (x: { entity: unknown }) => any;
  export default f;
}
declare module '@xmpp/stream-features' {
  const f: (x: { middleware: unknown }) => any;
  export default f;
}
declare module '@xmpp/iq/caller.js' {
  const f: (x: { middleware: unknown; entity: unknown }) => any;
  export default f;
}
declare module '@xmpp/sasl' {
  const f: (
    x: { streamFeatures: unknown; saslFactory: unknown },
    onAuthenticate: (...a: any[]) => Promise<void>,
  ) => any;
  export default f;
}
declare module '@xmpp/resource-binding' {
  const f: (x: { iqCaller: unknown; streamFeatures: unknown }, resource?: string) => any;
  export default f;
}
declare module '@xmpp/stream-management' {
  const f: (x: Record<string, unknown>) => any;
  export default f;
}
declare module 'sasl-scram-sha-1' {
  /** The SCRAM-SHA-1 client mechanism (CommonJS constructor; its state in underscored fields). */
  export default class ScramSha1 {
    protected _stage: 'initial' | 'challenge' | 'final';
    protected _salt: Uint8Array;
    protected _iterationCount: number;
    readonly name: string;
    response(cred: any): string | Promise<string>;
    challenge(chal: string): this;
  }
}
declare module '@xmpp/sasl-plain' {
  const f: (factory: unknown) => unknown;
  export default f;
}
declare module '@xmpp/tls/lib/Socket.js' {
  const S: any;
  export default S;
}
declare module '@xmpp/events' {
  export function promise(emitter: unknown, event: string, reject?: string, timeout?: number): Promise<any>;
}
declare module 'saslmechanisms' {
  const F: any;
  export default F;
}
declare module '@xmpp/component' {
  export function component(options: { service: string; domain: string; password: string }): any;
}
