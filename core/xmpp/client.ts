/**
 * A c2s connection assembled from xmpp.js parts (as @xmpp/client's own index.js does),
 * differing where agents need it: STARTTLS verifies against the operator's CA file,
 * Nagle is off on every socket, SASL uses PLAIN for JWT tokens (ejabberd checks tokens
 * only through PLAIN) and SCRAM for passwords, reconnection is ours (core/connection.ts),
 * and the middleware is a cheaper drop-in (./middleware.ts).
 */
import tls from 'node:tls';
import net from 'node:net';
import { Client, xml, jid as parseJid } from '@xmpp/client-core';
import tcp from '@xmpp/tcp';
import middlewareFactory from './middleware.js';
import streamFeaturesFactory from '@xmpp/stream-features';
import iqCallerFactory from '@xmpp/iq/caller.js';
import saslFactoryFn from '@xmpp/sasl';
import resourceBindingFactory from '@xmpp/resource-binding';
import streamManagementFactory from '@xmpp/stream-management';
import plain from '@xmpp/sasl-plain';
import TlsSocket from '@xmpp/tls/lib/Socket.js';
import { promise } from '@xmpp/events';
import SASLFactory from 'saslmechanisms';
import { Scram, type ScramCredentials } from './scram.js';

const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** How long one login step (stream header, STARTTLS answer) or a closing stream may take. */
export const STEP_TIMEOUT_MS = 10_000;

export interface ClientOptions {
  /** xmpp://host:port */
  service: string;
  domain: string;
  username: string;
  /** Password (SCRAM) or a JWT minted by the host's key holder (PLAIN). */
  password: string;
  isToken?: boolean;
  /** Called at every (re)login for a fresh secret: tokens expire, sessions outlive them. */
  refresh?: () => Promise<string>;
  resource?: string;
  /** PEM of the CA that signed the server certificate; system CAs when absent. */
  ca?: string | Buffer;
  /** Host name the certificate must name; defaults to `domain`. */
  servername?: string;
  /**
   * Lets SASL run on an unencrypted stream, and only to a loopback address: for a test
   * server without TLS. Off, a stream the server did not encrypt never carries a secret.
   */
  insecureLoopback?: boolean;
}

/** A login refused before any secret was sent: retrying cannot help. */
class EncryptionRequiredError extends Error {
  readonly condition = 'encryption-required';
}

function loopbackService(service: string): boolean {
  let host: string;
  try {
    host = new URL(service).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export type XmppClient = any;

/**
 * One TLS context per CA: building one parses the CA's PEM and sets up OpenSSL's store,
 * about a millisecond, which every login and reconnection of every agent in a process
 * paid again (a tenth of an instance agent's start-up CPU in a login storm).
 */
const contexts = new Map<string, tls.SecureContext>();
function secureContext(ca: string | Buffer | undefined): tls.SecureContext {
  const key = ca === undefined ? '' : ca.toString();
  let c = contexts.get(key);
  if (!c) {
    c = tls.createSecureContext({ ca, minVersion: 'TLSv1.2' });
    // A process talks to a handful of servers; a bound keeps a mistaken caller from growing it.
    if (contexts.size >= 32) contexts.clear();
    contexts.set(key, c);
  }
  return c;
}

export function createClient(o: ClientOptions): XmppClient {
  // Each step of the login waits this long for the server (xmpp.js's default is 2 s, which
  // a server busy with a login storm exceeds, and every attempt then fails alike).
  const entity: XmppClient = new Client({ service: o.service, domain: o.domain, timeout: STEP_TIMEOUT_MS });
  entity.jid = parseJid(o.username, o.domain);
  tcp({ entity });
  const middleware = middlewareFactory({ entity });
  const streamFeatures = streamFeaturesFactory({ middleware });
  const iqCaller = iqCallerFactory({ middleware, entity });

  // RFC 6120 §5: STARTTLS, verified against the configured CA.
  streamFeatures.use('starttls', NS_TLS, async ({ entity: e }: { entity: XmppClient }) => {
    const socket = e.socket;
    if (!(socket instanceof net.Socket) || socket instanceof tls.TLSSocket) return;
    const reply = await e.sendReceive(xml('starttls', { xmlns: NS_TLS }));
    // An attempt given up meanwhile (core/connection.ts) is not continued on the next one's socket.
    if (e.socket !== socket) return;
    if (!reply.is('proceed', NS_TLS)) throw new Error(`STARTTLS refused by the server (it answered <${reply.name}>)`);
    const secure = new TlsSocket();
    secure.connect({
      socket,
      host: o.domain,
      servername: o.servername ?? o.domain,
      secureContext: secureContext(o.ca),
    });
    await promise(secure, 'connect');
    if (e.socket !== socket) {
      secure.destroy();
      return;
    }
    e._attachSocket(secure);
    await e.restart();
  });

  const saslFactory = new SASLFactory();
  saslFactory.use(Scram);
  plain(saslFactory);
  saslFactoryFn(
    { streamFeatures, saslFactory },
    async (authenticate: (c: unknown, m: string) => Promise<void>, mechanisms: string[]) => {
      // RFC 6120 §13.8: a password (even as SCRAM, which an eavesdropper can attack offline)
      // or a token goes only over TLS; a server that offered no STARTTLS gets nothing.
      if (!entity.isSecure() && !(o.insecureLoopback && loopbackService(entity.options.service))) {
        throw new EncryptionRequiredError(
          `refusing SASL on an unencrypted stream to ${o.service}: the server did not offer STARTTLS`,
        );
      }
      const wanted = o.isToken ? 'PLAIN' : mechanisms.includes('SCRAM-SHA-1') ? 'SCRAM-SHA-1' : 'PLAIN';
      if (!mechanisms.includes(wanted))
        throw new Error(`server does not offer SASL ${wanted} (offers ${mechanisms.join(', ')})`);
      const socket = entity.socket;
      const password = o.refresh ? await o.refresh() : o.password;
      const credentials: ScramCredentials = {
        username: o.username,
        password,
        abandoned: () => entity.socket !== socket,
      };
      await authenticate(credentials, wanted);
    },
  );
  const streamManagement = streamManagementFactory({ streamFeatures, entity, middleware });
  resourceBindingFactory({ iqCaller, streamFeatures }, o.resource);

  // Nagle's algorithm delays small writes by up to 40 ms: an IQ round trip went from
  // 44 ms to 0.37 ms with it off (DESIGN.md, measured on this hardware).
  entity.on('connect', () => entity.socket?.setNoDelay?.(true));
  return Object.assign(entity, { entity, middleware, streamFeatures, iqCaller, streamManagement });
}
