// The stock @xmpp/client ships no TypeScript types; the chat test uses only this much of it.
declare module '@xmpp/client' {
  import type { Element } from 'ltx';
  export interface XmppClient {
    start(): Promise<unknown>;
    stop(): Promise<void>;
    readonly reconnect: { stop(): void };
    send(el: Element): Promise<void>;
    on(event: 'stanza', fn: (el: Element) => void): void;
    on(event: 'error', fn: (err: Error) => void): void;
    on(event: string, fn: (...args: unknown[]) => void): void;
  }
  export function client(options: {
    service: string;
    domain: string;
    username: string;
    password: string;
    resource?: string;
  }): XmppClient;
  export function xml(name: string, attrs?: Record<string, string>, ...children: Array<Element | string>): Element;
}
