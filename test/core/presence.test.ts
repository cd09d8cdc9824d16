/**
 * The live view of peers (core/presence.ts), fed presence stanzas as the server delivers
 * them. A peer with a fixed resource that comes back has the same full JID; the server may
 * deliver the old session's unavailable presence after the new session's available one,
 * and the peer must then still be online, its return seen as offline and online.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { Presence, type PeerEvent } from '../../core/presence.js';
import { silentLogger } from '../helpers/log.js';

const PEER = 'cloud-a@example.org/cloud';

function view() {
  const sent: Element[] = [];
  const p = new Presence(
    'gateway',
    async (el) => {
      sent.push(el);
    },
    silentLogger(),
    () => true,
  );
  const events: string[] = [];
  p.on('peer', (e: PeerEvent) => events.push(`${e.type} ${e.peer.session ?? '-'}`));
  return { p, sent, events };
}

function available(session?: string, from = PEER): Element {
  const el = new Element('presence', { from });
  el.c('agent', { xmlns: 'urn:cloudgate:presence:1', kind: 'cloud', ...(session ? { session } : {}) });
  return el;
}
const unavailable = (from = PEER) => new Element('presence', { from, type: 'unavailable' });

test("a new session's presence before the old one's unavailable: gone and back, and still online after", () => {
  const { p, sent, events } = view();
  p.onPresence(available('s1'));
  p.onPresence(available('s1')); // an update of the same session
  p.onPresence(available('s2')); // restarted, same full JID
  assert.deepEqual(events, ['online s1', 'changed s1', 'offline s1', 'online s2']);
  assert.equal(sent.length, 2, 'each new session is answered with our presence');
  p.onPresence(unavailable()); // the old session's, late
  assert.equal(p.get(PEER)?.session, 's2', 'still online');
  assert.deepEqual(events.slice(4), []);
  p.onPresence(unavailable()); // now the new session goes
  assert.equal(p.get(PEER), undefined);
  assert.deepEqual(events.slice(4), ['offline s2']);
});

test("the old session's unavailable first: offline, then online, nothing passed over", () => {
  const { p, events } = view();
  p.onPresence(available('s1'));
  p.onPresence(unavailable());
  p.onPresence(available('s2'));
  p.onPresence(unavailable());
  assert.deepEqual(events, ['online s1', 'offline s1', 'online s2', 'offline s2']);
  assert.equal(p.get(PEER), undefined);
});

test('a peer that names no session is one session, as before', () => {
  const { p, events } = view();
  p.onPresence(available());
  p.onPresence(available());
  p.onPresence(unavailable());
  assert.deepEqual(events, ['online -', 'changed -', 'offline -']);
});

test('our presence names our session, and a new one after renew', () => {
  const { p } = view();
  const ours = () => p.stanza().getChild('agent', 'urn:cloudgate:presence:1')!.attrs.session as string;
  const first = ours();
  assert.match(first, /^[A-Za-z0-9_-]{1,64}$/);
  assert.equal(ours(), first);
  p.renew();
  assert.notEqual(ours(), first);
});

test('a presence error is never passed over as a replaced session', () => {
  const { p, events } = view();
  p.onPresence(available('s1'));
  p.onPresence(available('s2'));
  p.onPresence(new Element('presence', { from: PEER, type: 'error' }));
  assert.equal(p.get(PEER), undefined);
  assert.deepEqual(events, ['online s1', 'offline s1', 'online s2', 'offline s2']);
});
