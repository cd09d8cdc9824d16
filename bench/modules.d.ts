// The stock xmpp.js client (the baseline) ships no TypeScript types.
declare module '@xmpp/client' {
  import type { Element } from 'ltx';
  export const xml: (name: string, attrs?: Record<string, unknown> | null, ...children: unknown[]) => Element;
  export function client(options: {
    service: string;
    domain: string;
    username?: string;
    password?: string;
    resource?: string;
    /** Milliseconds each stream step (open, close) may take (default 2000). */
    timeout?: number;
    /** Called with the SASL step and the offered mechanisms; picks one and authenticates. */
    credentials?: (
      authenticate: (c: object, mechanism: string) => Promise<void>,
      mechanisms: string[],
    ) => Promise<void>;
  }): any;
}
