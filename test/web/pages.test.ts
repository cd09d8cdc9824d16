/**
 * The web pages' parts on their own (no browser): the deploy form per service, the capped
 * newest-first history, what the dashboard flags, the pairing list, and sessions kept in
 * SQLite (expiry, logout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createGatewayModel,
  encryptContext,
  openGatewayStore,
  type DeploymentEvent,
} from '../../agents/gateway/model/index.js';
import { countsFromForm, deployForm, needsPassphrase } from '../../agents/gateway/web-deploy.js';
import { compactTime, EVENTS_SHOWN, eventList, instancesTable } from '../../agents/gateway/web-instances.js';
import { attention, dashboardPage } from '../../agents/gateway/web-pages.js';
import { pairingPage } from '../../agents/gateway/web-pairing.js';
import { createSessions } from '../../agents/gateway/web-session.js';
import type { DeploymentView } from '../../agents/gateway/wire.js';
import { clusterIni } from '../gateway/harness.js';

const ME = 'pat@example.org';
const PLAIN = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = test\n';

test('deploy form: one labelled number field per scalable service, a passphrase only for an encrypted context', async () => {
  const model = createGatewayModel(openGatewayStore(':memory:'));
  model.users.add(ME);
  model.contexts.create({ owner: ME, name: 'plain', content: { type: 'plain', body: PLAIN } });
  const sealed = await encryptContext(PLAIN, 'a long passphrase 1', { kdf: { log2N: 14, r: 8, p: 1 } });
  model.contexts.create({ owner: ME, name: 'sealed', content: { type: 'encrypted', blob: sealed } });
  const open = model.clusters.put(ME, clusterIni({ name: 'open', context: 'plain', min: 2, initial: 3, max: 5 }));
  const closed = model.clusters.put(ME, clusterIni({ name: 'closed', context: 'sealed' }));
  assert.equal(needsPassphrase(model, ME, open), false);
  assert.equal(needsPassphrase(model, ME, closed), true);

  const form = deployForm([open, closed], open, { csrf: 'tok', encrypted: false }).text;
  assert.match(form, /<label for="count-worker">worker instances \(2\.\.5\)<\/label>/);
  assert.match(
    form,
    /<input id="count-worker" name="count-worker" type="number"[^>]* min="2" max="5" value="3" required>/,
  );
  assert.doesNotMatch(form, /count-head"/, 'a fixed service has no field');
  assert.doesNotMatch(form, /name="passphrase"/);
  assert.doesNotMatch(form, /counts/, 'no free-text counts field');
  assert.match(
    deployForm([open, closed], closed, { csrf: 'tok', encrypted: true }).text,
    /name="passphrase"[^>]*required/,
  );

  assert.deepEqual(countsFromForm(open, { 'count-worker': '4', 'count-head': '9' }), { worker: 4 });
  assert.deepEqual(countsFromForm(open, {}), {});
  assert.throws(
    () => countsFromForm(open, { 'count-worker': 'lots' }),
    /^Error: counts: worker: "lots" is not a whole number/,
  );
  model.db.close();
});

const ev = (seq: number, time: number): DeploymentEvent =>
  ({ seq, deploymentId: 'd1', time, type: 'instance', message: `event <${seq}>` }) as DeploymentEvent;

test('history: newest first, compact times, capped with a link to all of it', () => {
  const now = Date.UTC(2026, 11, 7, 12, 0, 0);
  const events = Array.from({ length: EVENTS_SHOWN + 5 }, (_, i) => ev(i + 1, now - (EVENTS_SHOWN + 5 - i) * 1000));
  const capped = eventList(events, false, '/web/deployments/d1?events=all', now).text;
  const seqs = [...capped.matchAll(/event &lt;(\d+)&gt;/g)].map((m) => Number(m[1]));
  assert.equal(seqs.length, EVENTS_SHOWN);
  assert.equal(seqs[0], EVENTS_SHOWN + 5, 'the newest first');
  assert.match(capped, /href="\/web\/deployments\/d1\?events=all" id="all-events">Show all 25 events/);
  const all = eventList(events, true, '/x', now).text;
  assert.equal([...all.matchAll(/<li>/g)].length, EVENTS_SHOWN + 5);
  assert.doesNotMatch(all, /Show all/);
  assert.equal(compactTime(now - 5000, now), '11:59:55');
  assert.equal(compactTime(Date.UTC(2026, 11, 6, 9, 3, 0), now), 'Dec 6 09:03');
});

const view = (o: Partial<DeploymentView>): DeploymentView =>
  ({
    id: 'd1',
    cluster: 'c',
    owner: ME,
    state: 'completed',
    created: '',
    updated: '',
    node: 'n',
    services: [{ name: 'worker', type: 'scalable', wanted: 2, ready: 2 }],
    instances: [],
    ...o,
  }) as DeploymentView;
const inst = (name: string, state: string, ready: boolean, reason?: string) => ({
  name,
  service: 'worker',
  cloud: 'cloud-a@x',
  state,
  ready,
  context_version: 1,
  ...(reason ? { reason } : {}),
});

test('dashboard: a failed deployment or a lost instance is flagged in words', () => {
  assert.deepEqual(
    attention(view({ instances: [inst('worker-1', 'running', true), inst('worker-2', 'running', true)] as never })),
    [],
  );
  const lost = view({
    services: [{ name: 'worker', type: 'scalable', wanted: 2, ready: 1 }],
    instances: [
      inst('worker-1', 'running', true),
      inst('worker-2', 'terminating', false, 'lost: heartbeats stopped'),
    ] as never,
  });
  assert.deepEqual(attention(lost), ['1 instance(s) failed or lost: worker-2', 'worker only 1/2 ready']);
  // Scaling up is not trouble: the missing instance is on its way.
  const growing = view({
    services: [{ name: 'worker', type: 'scalable', wanted: 3, ready: 2 }],
    instances: [
      inst('worker-1', 'running', true),
      inst('worker-2', 'running', true),
      inst('worker-3', 'booting', false),
    ] as never,
  });
  assert.deepEqual(attention(growing), []);
  assert.deepEqual(attention(view({ state: 'failed' })), ['deployment failed']);
  const page = dashboardPage([lost]).text;
  assert.match(page, /data-attention="yes"/);
  assert.match(page, /⚠ 1 instance\(s\) failed or lost: worker-2/);
});

test('instances table: key columns first, each cell labelled for the phone layout, with addresses', () => {
  const t = instancesTable(
    [inst('worker-1', 'running', true)] as never,
    new Map([['worker-1', ['10.0.0.5', '2001:db8::5']]]),
  ).text;
  const labels = [...t.matchAll(/data-label="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(labels.slice(0, 3), ['Name', 'State', 'Readiness']);
  assert.match(t, /<td data-label="Address" class="address">10\.0\.0\.5, 2001:db8::5<\/td>/);
});

test('pairing page: the new code shown once, and each code claimed, waiting or expired', () => {
  const now = Date.UTC(2026, 11, 7, 12, 0, 0);
  const body = pairingPage(
    [{ name: 'analysis', version: 2 }],
    [
      {
        context: 'analysis',
        version: 2,
        created: now - 60_000,
        expires: now + 540_000,
        claimed: now - 1000,
        jid: 'pair-ab@i.x',
      },
      { context: 'analysis', version: 2, created: now - 30_000, expires: now + 570_000 },
      { context: '<b>old</b>', version: 1, created: now - 900_000, expires: now - 300_000 },
    ],
    { csrf: 't', enabled: true, code: { code: 'ABCD-EFGH-JKMN-PQRS', context: 'analysis', expires: now / 1000 + 600 } },
    now,
  ).text;
  assert.match(body, /<p class="code" id="code">ABCD-EFGH-JKMN-PQRS<\/p>/);
  assert.match(body, /claimed<\/span> at 11:59:59 by <code>pair-ab@i\.x<\/code>/);
  assert.match(body, /waiting for a machine \(until 12:09:30\)/);
  assert.match(
    body,
    /&lt;b&gt;old&lt;\/b&gt; v1<\/td><td data-label="Status" class="status"><span class="badge-bad">expired/,
  );
  assert.match(body, /data-stream="\/web\/pairing\/stream"/);
  assert.match(pairingPage([], [], { csrf: 't', enabled: false }).text, /Pairing is not enabled/);
});

test('sessions live in the database: a second store on it sees them; expiry and logout delete them', () => {
  const db = openGatewayStore(':memory:');
  let clock = 1_000_000;
  const a = createSessions({ db, ttlS: 60, now: () => clock });
  const s = a.open(ME);
  const b = createSessions({ db, ttlS: 60, now: () => clock });
  assert.deepEqual(b.get(s.id), s, 'as after a restart');
  const rows = JSON.stringify(db.prepare('SELECT * FROM web_sessions').all());
  assert.ok(!rows.includes(s.id), 'only a hash of the id is stored');
  clock += 61_000;
  assert.equal(b.get(s.id), undefined, 'expired');
  assert.equal(db.prepare('SELECT count(*) FROM web_sessions').pluck().get(), 0);
  const t = b.open(ME);
  a.close(t.id);
  assert.equal(b.get(t.id), undefined, 'logged out');
  assert.equal(b.get(undefined), undefined);
  db.close();
});
