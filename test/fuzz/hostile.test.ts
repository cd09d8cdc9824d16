/**
 * Hostile input at a real gateway, cloud agent and instance agent (one real ejabberd):
 * more than 10,000 generated stanzas from a seeded PRNG (cases.ts): malformed payloads of
 * every request and message type they serve (wrong types, missing fields, huge values,
 * junk children), unknown namespaces and elements, wrong IQ types and payload counts, and
 * valid requests from senders with no right to them (a user on another user's deployment,
 * a JID the gateway refuses, a non-instance of the instances' host, a second requester,
 * JIDs an instance does not obey). Then replayed reliable-message ids.
 *
 * Asserted: every IQ is answered, and with an acceptable error; no internal error and no
 * error logged; nobody goes offline; each agent still answers a valid request; the
 * victim's state is unchanged in the gateway's database, the cloud agent's database and
 * driver, and the instance agent (no command ran); a replayed id has no second effect.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Element } from 'ltx';
import { pino } from 'pino';
import type { Agent, AgentEvent } from '../../core/index.js';
import { cloud, gateway as gw, instance, NS_STANZAS, StanzaError, type Condition } from '../../protocols/index.js';
import { generate, type Case, type TargetName } from './cases.js';
import { prng } from './rng.js';
import { cloudState, gatewayState, instanceState } from './state.js';
import { startTargets, until, type Targets } from './targets.js';

const SEED = 0x0f022ed;
const COUNTS: Record<TargetName, number> = { gateway: 4000, cloud: 3300, instance: 3000 };
const NS_RECEIPTS = 'urn:xmpp:receipts';

/** Warnings and errors of one agent, as parsed lines. */
function warnLog() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { log: pino({ level: 'warn' }, sink), lines };
}

function conditionOf(reply: Element): string {
  const err = reply.getChild('error');
  return (
    err?.getChildElements().find((e) => e.attrs.xmlns === NS_STANZAS && e.name !== 'text')?.name ??
    'error without condition'
  );
}

/** Replies (IQ results and errors, message errors) that reach `agent`, by stanza id. */
function collect(agent: Agent) {
  const got = new Map<string, Element[]>();
  const waiting = new Map<string, (el: Element) => void>();
  agent.conn.on('stanza', (el: Element) => {
    const id = el.attrs.id;
    if (!id) return;
    if (
      el.name === 'iq'
        ? el.attrs.type !== 'result' && el.attrs.type !== 'error'
        : el.name !== 'message' || el.attrs.type !== 'error'
    )
      return;
    got.set(id, [...(got.get(id) ?? []), el]);
    waiting.get(id)?.(el);
  });
  return {
    got,
    wait(id: string, ms: number): Promise<Element | undefined> {
      const have = got.get(id)?.[0];
      if (have) return Promise.resolve(have);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(undefined);
        }, ms);
        waiting.set(id, (el) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(el);
        });
      });
    },
  };
}

describe('hostile input at the gateway, a cloud agent and an instance agent', () => {
  let tg: Targets;
  const logs = { gateway: warnLog(), cloud: warnLog(), instance: warnLog() };
  const offline: string[] = [];
  /** Allocation results the second requester received. */
  const results: Array<{ request_id: string; accepted: string[] }> = [];

  before(async () => {
    tg = await startTargets({ gateway: logs.gateway.log, cloud: logs.cloud.log, instance: logs.instance.log });
    tg.fuzzgw.onMessage(cloud.AllocateResult, (m) => {
      results.push(m);
    });
    for (const a of [
      tg.gateway.agent,
      tg.cloud.agent,
      tg.instance.agent,
      tg.alice,
      tg.mallory,
      tg.stranger,
      tg.ghost,
      tg.fuzzgw,
      tg.cloudb,
    ]) {
      a.on('status', (e: AgentEvent) => {
        if (e.type === 'offline') offline.push(a.bare);
      });
    }
  });
  after(async () => {
    await tg?.stop();
  });

  const to = (target: TargetName) =>
    target === 'gateway' ? tg.gateway.agent.jid : target === 'cloud' ? tg.cloud.agent.jid : tg.instance.agent.jid;

  /** Each target still does its work for those entitled to it. */
  async function stillServing(): Promise<void> {
    assert.equal(
      (await tg.alice.request(gw.Status, tg.gateway.agent.jid, { deployment: tg.victim.deployment })).deployments[0]
        ?.id,
      tg.victim.deployment,
    );
    assert.equal((await tg.fuzzgw.request(cloud.CloudInfo, tg.cloud.agent.jid, {})).name, 'cloud-a');
    assert.equal((await tg.alice.request(instance.InstanceStatus, tg.instance.agent.jid, {})).phase, 'ready');
  }

  test(`${Object.values(COUNTS).reduce((a, b) => a + b)} generated stanzas: every IQ refused, nothing changed, nobody down`, {
    timeout: 150_000,
  }, async (t) => {
    const cases = generate(prng(SEED), tg, COUNTS);
    assert.ok(cases.length >= 10_000);
    const before = { gateway: gatewayState(tg), cloud: await cloudState(tg), instance: instanceState(tg) };
    const collectors = new Map<Agent, ReturnType<typeof collect>>();
    const replies = (a: Agent) => {
      let c = collectors.get(a);
      if (!c) collectors.set(a, (c = collect(a)));
      return c;
    };
    for (const c of cases) replies(c.from);

    const wrong: string[] = [];
    const tally = new Map<string, number>();
    const count = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1);
    const silent: Array<{ id: string; c: Case }> = [];
    let iqs = 0;
    let iqErrors = 0;
    const batch = 250;
    for (let i = 0; i < cases.length; i += batch) {
      if ((i / batch) % 8 === 0) await stillServing();
      const part = cases.slice(i, i + batch).map((c, j) => ({ c, id: `fz-${i + j}` }));
      for (const { c, id } of part) {
        const el =
          c.stanza === 'iq'
            ? new Element('iq', { to: to(c.target), id, type: c.type! })
            : new Element('message', { to: to(c.target), id, type: 'normal' });
        for (const ch of c.children) el.cnode(ch);
        if (c.stanza === 'message' && id.endsWith('7')) el.c('request', { xmlns: NS_RECEIPTS });
        count(`${c.target} ${c.stanza} ${c.kind.split(':')[0]}`);
        await c.from.conn.send(el);
      }
      await Promise.all(
        part.map(async ({ c, id }) => {
          if (c.stanza === 'message' && c.expect === null) {
            silent.push({ id, c });
            return;
          }
          const reply = await replies(c.from).wait(id, 20_000);
          const got = !reply
            ? 'no reply'
            : reply.attrs.type !== 'error'
              ? `type=${reply.attrs.type}`
              : conditionOf(reply);
          if (c.stanza === 'iq') {
            iqs++;
            if (reply?.attrs.type === 'error') iqErrors++;
          }
          if (!c.expect!.includes(got as Condition))
            wrong.push(
              `${id} ${c.target} ${c.stanza} ${c.kind} from ${c.from.bare}: expected ${c.expect!.join('|')}, got ${got}`,
            );
        }),
      );
    }
    // Messages rightly ignored had the whole run to draw a wrong answer.
    await stillServing();
    for (const { id, c } of silent) {
      const r = replies(c.from).got.get(id);
      if (r)
        wrong.push(
          `${id} ${c.target} ${c.kind} from ${c.from.bare}: answered ${conditionOf(r[0]!)}, should be ignored`,
        );
    }

    const report = JSON.stringify(Object.fromEntries([...tally].sort()), null, 1);
    const warned = Object.entries(logs)
      .map(([name, l]) => `${name} ${l.lines.length}`)
      .join(', ');
    t.diagnostic(
      `${cases.length} stanzas: ${iqs} IQs (${iqErrors} answered with an error), ${cases.length - iqs} messages (${silent.length} rightly ignored); warning lines: ${warned}`,
    );
    assert.deepEqual(
      wrong.slice(0, 15),
      [],
      `${wrong.length} of ${cases.length} stanzas answered wrongly; by kind: ${report}`,
    );
    assert.equal(iqErrors, iqs, 'every IQ was answered with an error');
    assert.ok(iqs >= 8000, `${iqs} IQs`);
    for (const target of ['gateway', 'cloud', 'instance'] as const) {
      for (const kind of ['malformed', 'unknown-payload', 'wrong-iq-type', 'payload-count', 'unauthorized']) {
        assert.ok((tally.get(`${target} iq ${kind}`) ?? 0) >= 30, `${target} got enough ${kind} IQs: ${report}`);
      }
    }
    assert.deepEqual(offline, [], 'nobody lost its connection');
    for (const [name, l] of Object.entries(logs)) {
      assert.deepEqual(
        l.lines.filter((x) => x.level >= 50).map((x) => x.msg),
        [],
        `the ${name} logged no error (a crash in a handler)`,
      );
      // Refusals are logged once per sender and kind of problem, not once per stanza.
      assert.ok(l.lines.length <= 60, `the ${name} logged ${l.lines.length} warnings for ${cases.length} stanzas`);
    }

    assert.deepEqual(gatewayState(tg), before.gateway, "the gateway's state for the victim is unchanged");
    assert.deepEqual(
      await cloudState(tg),
      before.cloud,
      "the cloud agent has no extra instance and the victim's is untouched",
    );
    assert.deepEqual(
      instanceState(tg),
      before.instance,
      'the instance ran no command, did not drain, kept its context',
    );
    const victimName = `${tg.victim.deployment}-head-1`;
    assert.deepEqual(
      results.filter((r) => r.accepted.includes(victimName)).map((r) => r.request_id),
      [],
      "another requester is never told it holds the victim's instance",
    );
    await stillServing();
  });

  test('forged PubSub events are ignored; strangers may not subscribe to or read event nodes', {
    timeout: 60_000,
  }, async () => {
    const node = `deployments/${tg.victim.deployment}`;
    const got: Array<{ seq: number; message: string }> = [];
    tg.alice.onEvent(gw.DeploymentEvent, (e, meta) => {
      if (meta.node === node) got.push({ seq: e.seq, message: e.message });
    });
    // Look-alike notifications sent straight to the follower, far ahead in sequence and item id.
    for (const from of [tg.mallory, tg.stranger, tg.fuzzgw]) {
      for (let i = 0; i < 5; i++) {
        const el = new Element('message', { to: tg.alice.jid, id: `forged-${from.bare}-${i}` });
        el.c('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' })
          .c('items', { node })
          .c('item', { id: `e99999999999999${i}` })
          .cnode(
            gw.DeploymentEvent.payload.encode({
              deployment: tg.victim.deployment,
              seq: 1_000_000 + i,
              type: 'state',
              message: 'forged',
              state: 'failed',
              data: undefined,
              at: new Date().toISOString(),
            }),
          );
        await from.conn.send(el);
      }
    }
    // A round trip from each sender after its forgeries: they have reached alice by now.
    for (const from of [tg.mallory, tg.stranger, tg.fuzzgw])
      await from.iq(tg.alice.jid, 'get', new Element('ping', { xmlns: 'urn:xmpp:ping' })).catch(() => undefined);
    // The real events are still ahead of alice's catch-up position: the forged ids moved nothing.
    const caught = await tg.alice.pubsub.catchUp(node);
    assert.ok(caught > 0, 'the real stored events were delivered');
    assert.deepEqual(
      got.filter((e) => e.message === 'forged'),
      [],
      'no forged event reached the handler',
    );
    assert.ok(got.every((e) => e.seq < 1_000_000));

    const refused = (e: unknown) =>
      e instanceof StanzaError && /forbidden|not-authorized|not-allowed/.test(e.condition);
    for (const who of [tg.mallory, tg.stranger]) {
      for (const n of [node, 'clouds/cloud-a']) {
        await assert.rejects(who.pubsub.subscribe(n), refused, `${who.bare} subscribing to ${n}`);
        await assert.rejects(who.pubsub.items(n), refused, `${who.bare} reading ${n}`);
      }
    }
  });

  test('a replayed reliable message id has no second effect', { timeout: 60_000 }, async () => {
    const answers = () => results.filter((m) => m.request_id === 'replay-1').length;
    const msg = (names: string[], requestId = 'replay-1') => {
      const el = new Element('message', { to: tg.cloud.agent.jid, id: 'replayed-id', type: 'normal' });
      el.cnode(
        cloud.Allocate.payload.encode({
          request_id: requestId,
          deployment: 'fz-replay',
          service: 'worker',
          owner: `alice@${tg.t.host}`,
          flavor: 'small',
          image: 'cernvm-4',
          names,
          context: '[amiconfig]\nplugins = environment\n',
          context_version: 1,
          allow: [`alice@${tg.t.host}`],
        }),
      );
      el.c('request', { xmlns: NS_RECEIPTS });
      return el;
    };
    // The cloud agent: the same id again and again, then with another payload, then the same request under new ids.
    for (let i = 0; i < 20; i++) await tg.fuzzgw.conn.send(msg(['fz-replay-1']));
    for (let i = 0; i < 5; i++) await tg.fuzzgw.conn.send(msg(['fz-replay-2', 'fz-replay-3']));
    for (let i = 0; i < 5; i++) {
      const el = msg(['fz-replay-4']);
      el.attrs.id = `other-id-${i}`;
      await tg.fuzzgw.conn.send(el);
    }
    await until('the allocation answered', () => answers());
    await tg.cloud.pollNow();
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(
      tg.cloud.store.list({ deployment: 'fz-replay' }).map((r) => r.name),
      ['fz-replay-1'],
      'one instance, created once',
    );
    assert.deepEqual(
      (await tg.cloud.driver.describe())
        .filter((i) => i.name.startsWith('fz-replay') && i.state !== 'terminated')
        .map((i) => i.name),
      ['fz-replay-1'],
    );
    assert.equal(answers(), 1, 'one answer');

    // A refused message replayed: every copy refused alike, and nothing of it kept, not even
    // its id (an unauthorized sender changes no state, so a flood of them grows no table).
    const refusals = collect(tg.mallory);
    const seenFrom = (bare: string) =>
      tg.cloud.agent.db
        .prepare('SELECT count(*) FROM cg_seen_messages WHERE id LIKE ?')
        .pluck()
        .get(`${bare} %`) as number;
    for (let i = 0; i < 5; i++) {
      const el = msg(['fz-mallory']);
      el.attrs.id = 'mallory-replay';
      await tg.mallory.conn.send(el);
    }
    await refusals.wait('mallory-replay', 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    // A copy arriving while another is being refused is covered by that one's answer.
    const answered = refusals.got.get('mallory-replay')?.map(conditionOf) ?? [];
    assert.ok(
      answered.length >= 1 && answered.length <= 5 && answered.every((c) => c === 'not-authorized'),
      `refused, none acted on: ${answered}`,
    );
    assert.equal(tg.cloud.store.list({ deployment: 'fz-replay' }).length, 1);
    assert.equal(seenFrom(tg.mallory.bare), 0, 'no id kept for the unauthorized sender');
    assert.ok(seenFrom(tg.fuzzgw.bare) > 0, 'ids of the trusted sender are kept');

    // The gateway: the victim's instance reports its context ten times under one id.
    const local = tg.victim.instanceJid.split('@')[0]!;
    const vm = await tg.instanceSender(local);
    const contextEvents = () =>
      tg.gateway.model.events.list(tg.victim.deployment).filter((e) => e.type === 'context').length;
    const before = contextEvents();
    const report = new Element('message', { to: tg.gateway.agent.jid, id: 'report-once', type: 'normal' });
    report.cnode(
      instance.ContextReport.payload.encode({
        instance_id: 'vm',
        deployment: tg.victim.deployment,
        version: 1,
        ok: true,
        results: [],
        at: new Date().toISOString(),
      }),
    );
    report.c('request', { xmlns: NS_RECEIPTS });
    for (let i = 0; i < 10; i++) await vm.conn.send(report);
    await until('the report recorded', () => contextEvents() > before);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(contextEvents(), before + 1, 'recorded once');

    await tg.fuzzgw.sendReliable(cloud.Terminate, tg.cloud.agent.jid, {
      request_id: 'replay-end',
      deployment: 'fz-replay',
      owner: `alice@${tg.t.host}`,
      names: [],
    });
    await until(
      "the replayed allocation's instance terminated",
      () => tg.cloud.store.list({ deployment: 'fz-replay' }).every((r) => r.state === 'terminated') || undefined,
      20_000,
    );
  });
});
