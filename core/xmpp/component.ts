/**
 * An external component connection (XEP-0114) with Nagle off, for agents that serve a
 * whole subdomain (e.g. gateway.example.org) instead of logging in as a user.
 */
import { component } from '@xmpp/component';
import { STEP_TIMEOUT_MS } from './client.js';

export interface ComponentOptions {
  service: string;
  domain: string;
  password: string;
}

export function createComponent(o: ComponentOptions): any {
  const entity = component({
    service: o.service,
    domain: o.domain,
    password: o.password,
    timeout: STEP_TIMEOUT_MS,
  } as Parameters<typeof component>[0]);
  // The stock reconnect uses a fixed delay; core/connection.ts reconnects with backoff.
  entity.reconnect.stop();
  entity.on('connect', () => entity.socket?.setNoDelay?.(true));
  return entity;
}
