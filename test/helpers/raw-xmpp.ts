/**
 * A bare-bones XMPP client on a plain socket, as a program in another language would
 * write one: RFC 6120 stream, STARTTLS, SASL PLAIN, resource binding, then raw IQs. It
 * shares nothing with core/ (no @xmpp/client, no protocols/ codecs), so what it gets back
 * is what any XMPP library would see.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { type Element, parse } from 'ltx';
import { until } from './wait.js';

export interface RawClient {
  /** The full JID the server bound. */
  jid: string;
  /** Sends an IQ (its XML without the id) and resolves with the parsed answer. */
  iq(xml: string): Promise<Element>;
  /** Writes raw XML to the stream. */
  send(xml: string): void;
  /** Waits for `re` in what arrived since the last match, returns everything up to and including it. */
  expect(what: string, re: RegExp): Promise<string>;
  close(): void;
}

const STREAM = (domain: string) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

export async function rawLogin(o: {
  host: string;
  port: number;
  domain: string;
  user: string;
  password: string;
  ca: string;
  resource: string;
}): Promise<RawClient> {
  let buf = '';
  const plain: Socket = connect(o.port, o.host);
  plain.setEncoding('utf8');
  plain.on('data', (d: string) => {
    buf += d;
  });
  plain.on('error', () => {});
  /** Waits for `re` in what arrived since the last step and consumes up to it. */
  let consumed = '';
  const expect = async (what: string, re: RegExp): Promise<RegExpMatchArray> => {
    const m = await until(what, () => buf.match(re), 20_000, 10);
    consumed = buf.slice(0, m.index! + m[0].length);
    buf = buf.slice(m.index! + m[0].length);
    return m;
  };

  plain.write(STREAM(o.domain));
  await expect('STARTTLS offered', /<starttls[^>]*urn:ietf:params:xml:ns:xmpp-tls[\s\S]*?<\/stream:features>/);
  plain.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
  await expect('STARTTLS proceed', /<proceed[^>]*\/>/);
  plain.removeAllListeners('data');
  buf = '';
  const sock: TLSSocket = tlsConnect({ socket: plain, servername: o.domain, ca: o.ca });
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
  });
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('secureConnect', resolve);
    sock.once('error', reject);
  });

  sock.write(STREAM(o.domain));
  await expect('SASL PLAIN offered', /<mechanism>PLAIN<\/mechanism>[\s\S]*?<\/stream:features>/);
  const auth = Buffer.from(`\0${o.user}\0${o.password}`).toString('base64');
  sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
  await expect('SASL success', /<success[^>]*(\/>|>[\s\S]*?<\/success>)/);

  sock.write(STREAM(o.domain));
  await expect('resource binding offered', /<bind[^>]*urn:ietf:params:xml:ns:xmpp-bind[\s\S]*?<\/stream:features>/);
  sock.write(
    `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${o.resource}</resource></bind></iq>`,
  );
  const bound = await expect('resource bound', /<jid>([^<]+)<\/jid>/);

  let next = 0;
  return {
    jid: bound[1],
    async iq(xml: string) {
      const id = `raw${++next}`;
      sock.write(xml.replace(/^<iq\b/, `<iq id='${id}'`));
      const m = await expect(
        `the answer to ${id}`,
        new RegExp(`<iq\\b[^>]*\\bid=['"]${id}['"][^>]*?(?:/>|>[\\s\\S]*?</iq>)`),
      );
      return parse(m[0]) as Element;
    },
    send(xml: string) {
      sock.write(xml);
    },
    async expect(what: string, re: RegExp) {
      await expect(what, re);
      return consumed;
    },
    close() {
      sock.end('</stream:stream>');
    },
  };
}
