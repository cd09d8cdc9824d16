/**
 * Chat commands as a person uses them: a plain XMPP client (the stock @xmpp/client
 * package, logging in with a password, not the project's runtime) talks to the gateway,
 * which drives stand-in clouds. Replies are plain text; a deploy sends progress lines.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, xml, type XmppClient } from '@xmpp/client';
import { run } from '../../agents/gateway/index.js';
import type { RunningAgent } from '../../core/run.js';
import { gateway as gw } from '../../protocols/index.js';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { StandInCloud } from './peers.js';
import { clusterIni, CONTEXT, until } from './harness.js';

/** A person's chat client: sends lines, collects the gateway's replies. */
class Person {
  readonly lines: string[] = [];
  constructor(
    readonly xmpp: XmppClient,
    readonly to: string,
  ) {
    xmpp.on('stanza', (el) => {
      if (el.is('message') && el.attrs.type === 'chat' && el.getChildText('body'))
        this.lines.push(el.getChildText('body')!);
    });
    xmpp.on('error', () => {});
  }

  static async login(t: TestServer, user: string, password: string, to: string): Promise<Person> {
    await t.register(user, password);
    const x = client({ service: t.service, domain: t.host, username: user, password, resource: 'phone' });
    // The server's certificate is signed by the test CA, which the stock client cannot be
    // given (it calls tls.connect without a `ca` option), and NODE_EXTRA_CA_CERTS is read
    // only at process start. Node reads NODE_TLS_REJECT_UNAUTHORIZED at each tls.connect,
    // so verification is off only while this client connects, and on again at once.
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      await x.start();
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
    await x.send(xml('presence'));
    return new Person(x, to);
  }

  /** Logs out for good: without stopping its reconnect module first, a stop that races the
   * server's own close leaves a reconnect timer that keeps the test process alive. */
  async logout(): Promise<void> {
    this.xmpp.reconnect.stop();
    await this.xmpp.stop().catch(() => {});
  }

  /** Sends `text` and waits for a reply line matching `expect`; returns every line since. */
  async say(text: string, expect: RegExp = /./, ms = 15_000): Promise<string[]> {
    const from = this.lines.length;
    await this.xmpp.send(xml('message', { to: this.to, type: 'chat' }, xml('body', {}, text)));
    await until(
      `a reply to '${text}' matching ${expect}`,
      () => this.lines.slice(from).some((l) => expect.test(l)),
      ms,
    );
    return this.lines.slice(from);
  }
}

const PAIRED = 'paired.localhost';

describe('chat commands from a plain XMPP client', { timeout: 120_000 }, () => {
  let t: TestServer;
  let dir: string;
  let g: RunningAgent;
  let cloudA: StandInCloud;
  let carol: Person;
  let dave: Person;

  before(async () => {
    t = await startEjabberd({ extraHosts: [{ name: PAIRED, ownJwtKey: true }] }, { cleanup: false });
    dir = mkdtempSync(join(tmpdir(), 'cgt-gw-chat-'));
    const gwBare = `gateway@${t.host}`;
    cloudA = new StandInCloud(t, 'cloud-a', { name: 'cloud-a' });
    await cloudA.start(gwBare);
    // Started the way an operator does: an INI file and run(), as `cloudgate agent gateway` would.
    const file = join(dir, 'gateway.ini');
    writeFileSync(
      file,
      `[xmpp]\njid = ${gwBare}\nserver = ${t.server.info.ip}:${t.server.info.c2sPort}\njwt_key = ${t.server.info.jwtKeyFile}\nca = ${t.server.info.certFile}\nresource = gw\n
[log]\nlevel = ${process.env.TEST_LOG ?? 'silent'}\n
[gateway]\ndb = gateway.db\nadmins = admin@${t.host}\nclouds = ${cloudA.jid}\ntick = 100ms\nplacement_timeout = 3s\n
[users]\nallow = carol@${t.host}\n
[pairing]\nhttp_port = 0\nxmpp_domain = ${PAIRED}\njwt_key = ${t.server.info.hostJwtKeyFiles[PAIRED]}\nserver = ${t.server.info.ip}:${t.server.info.c2sPort}\n`,
    );
    g = await run(file);
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    carol = await Person.login(t, 'carol', 'carol-secret-1', g.agent.jid);
    dave = await Person.login(t, 'dave', 'dave-secret-1', g.agent.jid);
    // Contexts and cluster definitions come through the API (a program, here as carol); chat only uses them.
    const api = await makeAgent(t, 'carol', {
      xmpp: {
        service: t.service,
        domain: t.host,
        username: 'carol',
        password: 'carol-secret-1',
        isToken: false,
        ca: t.ca,
        resource: 'laptop',
      },
    });
    await api.start();
    await api.request(gw.PutContext, g.agent.jid, {
      name: 'node',
      body: CONTEXT,
      visibility: undefined,
      passphrase: undefined,
    });
    await api.request(gw.PutCluster, g.agent.jid, {
      definition: clusterIni({ initial: 2 }).replace(/^image = /gm, 'context = node\nimage = '),
    });
    // Pairing is wired when configured.
    const code = await api.request(gw.PairingCode, g.agent.jid, {
      context: 'node',
      version: undefined,
      ttl_s: undefined,
    });
    assert.match(code.code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    await api.stop();
  });
  after(async () => {
    await carol?.logout();
    await dave?.logout();
    await g?.stop();
    await cloudA?.stop();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('help and whoami', async () => {
    const help = (await carol.say('help', /commands you may run/)).join('\n');
    for (const c of ['whoami', 'clouds', 'contexts', 'clusters', 'deploy', 'status', 'scale', 'destroy'])
      assert.match(help, new RegExp(`\\n  ${c}`));
    assert.match((await carol.say('whoami', /You are/)).join('\n'), new RegExp(`You are carol@${t.host}, a user`));
    assert.match((await carol.say('clouds', /cloud-a/)).join('\n'), /cloud-a \(cloud-a@.*\): online, stand-in/);
    assert.match((await carol.say('contexts', /node/)).join('\n'), /node v1 \(c-[0-9a-f]+, private\)/);
    assert.match((await carol.say('clusters', /batch/)).join('\n'), /batch: head, worker/);
  });

  test('a person without rights is told so, and help shows only what they may run', async () => {
    assert.match(
      (await dave.say('deploy batch', /not allowed/)).join('\n'),
      new RegExp(`You \\(dave@${t.host}\\) are not allowed to run 'deploy'`),
    );
    const help = (await dave.say('help', /commands you may run/)).join('\n');
    assert.doesNotMatch(help, /deploy/);
    assert.match((await dave.say('whoami', /You are/)).join('\n'), /not allowed to use this gateway/);
    assert.equal(cloudA.allocations.length, 0);
  });

  test('deploy with progress lines, status, scale, destroy', async () => {
    const lines = await carol.say('deploy batch', /completed: every instance is ready/, 20_000);
    const all = lines.join('\n');
    const id = /Deployment (d-[0-9a-f]+) of batch started/.exec(all)?.[1];
    assert.ok(id, all);
    assert.match(all, /head: 1\/1 ready/);
    assert.match(all, /worker: 2\/2 ready/);
    assert.ok(
      lines.findIndex((l) => /head: 1\/1 ready/.test(l)) < lines.findIndex((l) => /worker: \d\/2 ready/.test(l)),
      'head before workers',
    );

    const st = (await carol.say(`status ${id}`, /events: node/)).join('\n');
    assert.match(st, /completed/);
    assert.match(st, /worker-2\s+running\s+ready/);
    assert.match((await carol.say('status', /batch/)).join('\n'), new RegExp(`${id} \\(batch, carol@`));

    assert.match((await carol.say(`scale ${id} worker 3`, /scale of .* done/)).join('\n'), /worker: 3\/3 ready/);
    assert.match(
      (await carol.say(`scale ${id} worker 99`, /failed/)).join('\n'),
      /scale failed: count for 'worker' must be an integer in 1\.\.6, got 99/,
    );
    assert.match((await carol.say('scale', /Usage/)).join('\n'), /scale: name a deployment and a service/);
    assert.match((await carol.say(`destroy ${id}`, /destroyed: nothing left running/)).join('\n'), /Destroying/);
    await until('nothing left', () => cloudA.live().length === 0);
    assert.match((await dave.say(`status ${id}`, /./)).join('\n'), /not allowed/);
  });
});
