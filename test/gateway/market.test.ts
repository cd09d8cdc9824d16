/**
 * The marketplace of shared contexts across two users, through a real gateway and a real
 * ejabberd: publish, search (words, +tag, -tag, pages), vote (one each, changeable), clone,
 * unpublish; an encrypted context is listed without its content and cloned still encrypted.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from '../../agents/gateway/index.js';
import type { Agent } from '../../core/index.js';
import { Chatter } from './chatter.js';
import { gateway as gw, StanzaError } from '../../protocols/index.js';
import { makeAgent } from '../helpers/agents.js';
import { engineSuite, startGateway } from './harness.js';

const WORKER = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = htcondor-worker\n';
const WEB = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = web\n';
const SECRET = '[amiconfig]\nplugins = environment\n\n[environment]\nTOKEN = s3cr3t-value-123\n';

describe('marketplace of shared contexts', { timeout: 120_000 }, () => {
  const s = engineSuite('cgt-gw-market-');
  let g: Gateway;
  let bob: Agent;
  let a: Chatter;
  let b: Chatter;
  const ids: Record<string, string> = {};

  before(async () => {
    g = await startGateway(s.t, { dir: s.dir, clouds: [] });
    s.running.push(g);
    bob = await makeAgent(s.t, 'bob');
    await bob.start();
    s.running.push(bob);
    a = new Chatter(s.alice, () => g.agent.jid);
    b = new Chatter(bob, () => g.agent.jid);
    const put = (body: string, name: string, passphrase?: string) =>
      s.alice.request(gw.PutContext, g.agent.jid, { name, body, visibility: undefined, passphrase });
    await put(WORKER, 'condor-worker');
    await put(WEB, 'web-frontend');
    await put(SECRET, 'secret-node', 'correct horse battery');
  });

  const idOf = (reply: string) => /as (m-[0-9a-f]{12})\./.exec(reply)![1]!;

  test('publish: own contexts only, with a summary and tags', async () => {
    ids.worker = idOf(
      await a.say(
        'publish condor-worker --summary "HTCondor worker node" --tags batch,htcondor --description "Joins the pool named in its environment"',
        /^Published condor-worker v1 as m-/,
      ),
    );
    // Later entries are more recent: with equal rank they come first.
    ids.web = idOf(
      await a.say('publish web-frontend --summary "Web front end" --tags web,gpu', /^Published web-frontend v1 as m-/),
    );
    ids.secret = idOf(
      await a.say('publish secret-node --summary "Node with a token" --tags batch', /^Published secret-node v1 as m-/),
    );
    assert.match(
      await b.say('publish condor-worker --summary x', /^publish failed/),
      /context 'condor-worker' not found/,
    );
    assert.match(await a.say('publish condor-worker --summary "again"', /^publish failed/), /already published/);
    assert.match(
      await a.say('publish web-frontend --summary "x" --tags "Bad Tag"', /^publish failed/),
      /tag 'bad tag'/,
    );
    assert.match(await a.say('publish web-frontend', /^publish:/), /--summary is required/);
  });

  test('search: words, +tag, -tag, ordered by rank then recency, paged; content never shown', async () => {
    const names = (reply: string) => [...reply.matchAll(/^m-[0-9a-f]{12} {2}(\S+) v/gm)].map((m) => m[1]);
    const all = await b.say('market', /entries, page 1 of 1/);
    assert.deepEqual(names(all), ['secret-node', 'web-frontend', 'condor-worker']);
    assert.match(all, /secret-node v1 by alice@.*\(encrypted\)/);
    assert.doesNotMatch(all, /s3cr3t|ROLE|amiconfig/);
    assert.deepEqual(names(await b.say('market htcondor', /entr/)), ['condor-worker']);
    assert.deepEqual(names(await b.say('market +batch', /entr/)), ['secret-node', 'condor-worker']);
    assert.deepEqual(names(await b.say('market +batch -htcondor', /entr/)), ['secret-node']);
    assert.deepEqual(names(await b.say('market -gpu', /entr/)), ['secret-node', 'condor-worker']);
    assert.deepEqual(names(await b.say('market pool', /entr/)), ['condor-worker'], 'words match descriptions');
    assert.match(await b.say('market worker +gpu', /./), /^Nothing in the marketplace matches\.$/);
    const p2 = g.market.search('', { perPage: 2, page: 2 });
    assert.deepEqual([p2.total, p2.pages, p2.entries.map((e) => e.name)], [3, 2, ['condor-worker']]);
    assert.match(await b.say('market --page 2', /page/i), /^Page 2 is past the last one \(1\)\.$/);
  });

  test('vote: one per user, changeable, not for one\u2019s own entry; rank orders results', async () => {
    assert.match(await b.say(`vote ${ids.worker} up`, /ranks/), /now ranks 1 \(1 vote\)/);
    assert.match(
      await b.say(`vote ${ids.worker} up`, /ranks/),
      /now ranks 1 \(1 vote\)/,
      'a second vote replaces the first',
    );
    const first = await b.say('market', /entries/);
    assert.match(first.split('\n')[1]!, /condor-worker v1 .* rank 1 \(1 vote\)/);
    assert.match(await b.say(`vote ${ids.worker} down`, /ranks/), /now ranks -1 \(1 vote\)/);
    assert.match((await b.say('market', /entries/)).split('\n').at(-2)!, /condor-worker/, 'a down vote ranks it last');
    assert.match(await b.say(`vote ${ids.worker} clear`, /ranks/), /now ranks 0 \(0 votes\)/);
    assert.match(await a.say(`vote ${ids.web} up`, /^vote failed/), /cannot vote for your own entry/);
    assert.match(await b.say('vote m-000000000000 up', /^vote failed/), /market entry 'm-000000000000' not found/);
  });

  test('clone: a copy of the published version; an encrypted one stays encrypted', async () => {
    assert.match(await b.say(`clone ${ids.worker}`, /^Cloned/), /into your context condor-worker \(/);
    const copy = await bob.request(gw.GetContext, g.agent.jid, {
      ref: 'condor-worker',
      version: undefined,
      passphrase: undefined,
    });
    assert.equal(copy.body, WORKER);
    assert.equal(copy.context.owner, `bob@${s.t.host}`);

    assert.match(await b.say(`clone ${ids.secret} my-node`, /^Cloned/), /into your context my-node/);
    await assert.rejects(
      bob.request(gw.GetContext, g.agent.jid, { ref: 'my-node', version: undefined, passphrase: undefined }),
      StanzaError,
    );
    const opened = await bob.request(gw.GetContext, g.agent.jid, {
      ref: 'my-node',
      version: undefined,
      passphrase: 'correct horse battery',
    });
    assert.equal(opened.body, SECRET);
  });

  test('a cluster definition is published as it is and cloned into the user\u2019s clusters', async () => {
    const ini = '[cluster]\nname = condor-pool\n\n[service.head]\ntype = fixed\nflavor = small\nimage = alma9\n';
    await s.alice.request(gw.PutCluster, g.agent.jid, { definition: ini });
    ids.pool = idOf(
      await a.say(
        'publish --cluster condor-pool --summary "A small HTCondor pool" --tags batch,cluster',
        /^Published cluster condor-pool as m-/,
      ),
    );
    assert.match(
      await a.say('publish --cluster condor-pool --summary "again"', /^publish failed/),
      /already published as it is/,
    );
    // Later changes to the publisher's definition do not change the entry.
    await s.alice.request(gw.PutCluster, g.agent.jid, { definition: ini.replace('small', 'large') });
    const found = await b.say('market +cluster', /entr/);
    assert.match(found, /condor-pool \(cluster\) by alice@/);
    assert.doesNotMatch(found, /\[service|flavor/);
    assert.match(
      await b.say(`clone ${ids.pool}`, /^Cloned/),
      /into your cluster condor-pool \(services: head\); 'deploy condor-pool' starts it\./,
    );
    assert.equal(g.model.clusters.get(`bob@${s.t.host}`, 'condor-pool')?.ini, ini);
    assert.match(await b.say(`clone ${ids.pool}`, /^clone failed/), /you already have a cluster 'condor-pool'/);
  });

  test('unpublish: only by its publisher; the context stays', async () => {
    assert.match(await b.say(`unpublish ${ids.web}`, /^unpublish failed/), /was published by alice@/);
    assert.match(await a.say(`unpublish ${ids.web}`, /^Unpublished/), new RegExp(ids.web!));
    assert.equal(g.market.get(ids.web!), undefined);
    assert.ok(g.model.contexts.byName(`alice@${s.t.host}`, 'web-frontend'));
  });
  test('typed IQ: publish, search (words, +tag, -tag), vote, clone and unpublish across two users', async () => {
    const me = `alice@${s.t.host}`;
    await s.alice.request(gw.PutContext, g.agent.jid, {
      name: 'iq-grid',
      body: WORKER,
      visibility: undefined,
      passphrase: undefined,
    });
    const pub = await s.alice.request(gw.Publish, g.agent.jid, {
      context: 'iq-grid',
      cluster: undefined,
      summary: 'Grid worker over IQ',
      description: 'zebrafish pipeline',
      tags: ['iqgrid', 'Batch'],
    });
    assert.equal(pub.entry.owner, me);
    assert.equal(pub.entry.kind, 'context');
    assert.deepEqual(pub.entry.tags, ['batch', 'iqgrid']);
    assert.equal(pub.entry.version, 1);
    const id = pub.entry.id;

    const search = (q: string) => bob.request(gw.MarketSearch, g.agent.jid, { q, page: undefined });
    assert.deepEqual(
      (await search('zebrafish')).entries.map((e) => e.id),
      [id],
      'words match the description',
    );
    assert.deepEqual(
      (await search('+iqgrid')).entries.map((e) => e.id),
      [id],
    );
    assert.deepEqual((await search('+iqgrid -batch')).entries, []);
    assert.equal((await search('zebrafish +nosuchtag')).total, 0);

    const up = await bob.request(gw.Vote, g.agent.jid, { id, value: 'up' });
    assert.deepEqual([up.entry.rank, up.entry.votes], [1, 1]);
    const down = await bob.request(gw.Vote, g.agent.jid, { id, value: 'down' });
    assert.deepEqual([down.entry.rank, down.entry.votes], [-1, 1], 'a vote is changed, not added');
    await assert.rejects(
      s.alice.request(gw.Vote, g.agent.jid, { id, value: 'up' }),
      (e: unknown) => e instanceof StanzaError && e.app === 'not-in-acl' && /your own entry/.test(e.message),
    );

    const cl = await bob.request(gw.CloneEntry, g.agent.jid, { id, name: 'my-grid' });
    assert.equal(cl.context?.owner, `bob@${s.t.host}`);
    assert.equal(cl.context?.name, 'my-grid');
    assert.ok(g.model.contexts.byName(`bob@${s.t.host}`, 'my-grid'));

    await assert.rejects(
      bob.request(gw.Unpublish, g.agent.jid, { id }),
      (e: unknown) => e instanceof StanzaError && e.app === 'not-in-acl',
    );
    await assert.rejects(
      s.alice.request(gw.Publish, g.agent.jid, {
        context: 'iq-grid',
        cluster: 'x',
        summary: 'both',
        description: undefined,
        tags: undefined,
      }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'bad-request' && /not both/.test(e.message),
    );
    await assert.rejects(
      s.alice.request(gw.Publish, g.agent.jid, {
        context: 'iq-grid',
        cluster: undefined,
        summary: 'x',
        description: undefined,
        tags: ['Bad Tag!'],
      }),
      (e: unknown) => e instanceof StanzaError && e.app === 'invalid-field' && /tag 'bad tag!'/.test(e.message),
    );
    await s.alice.request(gw.Unpublish, g.agent.jid, { id });
    assert.equal(g.market.get(id), undefined);
    await assert.rejects(
      bob.request(gw.CloneEntry, g.agent.jid, { id, name: undefined }),
      (e: unknown) => e instanceof StanzaError && e.app === 'not-found',
    );
  });
});
