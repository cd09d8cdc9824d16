/**
 * urn:cloudgate:test:cases:1 — a protocol that exists only for the golden round-trip
 * tests (test/protocol-cases/test/). It uses every schema kind once, so a change to the wire
 * encoding of any kind shows up as a golden-file difference.
 *
 *   <order xmlns='urn:cloudgate:test:cases:1' id='…' count='…' weight='…' gift='…'
 *          owner='…' priority='…' [coupon='…']>
 *     <note>text</note>                 text
 *     <meta>{"json":true}</meta>        json
 *     <customer name='…' [email='…']/>  nested object (with an optional scalar)
 *     [<shipping city='…'><street>…</street></shipping>]  optional nested object
 *     <tags><item>a</item>…</tags>      list of scalars
 *     <lines><item sku='…' qty='…'/>…</lines>  list of objects
 *     <labels><entry k='…'>v</entry>…</labels>  record
 *   </order>
 *   <order-result xmlns='…' accepted='…'><ids><item>1</item>…</ids></order-result>
 *   <note xmlns='…' from='…'><body>…</body></note>   (a one-way message)
 *
 * Error conditions: bad-request / invalid-field naming the field path; bad-request /
 * unknown-payload for a payload of another name or namespace.
 */
import {
  defineRequest,
  defineMessage,
  object,
  str,
  int,
  num,
  bool,
  jid,
  text,
  json,
  oneOf,
  optional,
  list,
  record,
} from '../../protocols/index.js';

export const NS_CASES = 'urn:cloudgate:test:cases:1';

export const Order = defineRequest(NS_CASES, 'order', {
  request: object({
    id: str({ max: 32, pattern: /^[a-z0-9-]+$/ }),
    count: int({ min: 0, max: 1000 }),
    weight: num(),
    gift: bool(),
    owner: jid(),
    priority: oneOf(['low', 'normal', 'high'] as const),
    coupon: optional(str({ max: 16 })),
    note: text({ max: 64 }),
    meta: optional(json<Record<string, unknown>>({ max: 256 })),
    customer: object({ name: str(), email: optional(str()) }),
    shipping: optional(object({ city: str(), street: text() })),
    tags: list(str({ max: 16 }), { max: 5 }),
    lines: list(object({ sku: str(), qty: int({ min: 1 }) })),
    labels: record({ max: 4, maxValue: 32 }),
  }),
  response: object({ accepted: bool(), ids: list(int()) }),
});

export const Note = defineMessage(NS_CASES, 'note', object({ from: jid(), body: text() }));
