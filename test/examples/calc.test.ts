/** The README's example agent, run as its own process against a real ejabberd. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Element } from 'ltx';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { defineRequest, object, int } from '../../protocols/index.js';

// The example is a program (importing it would start it): the caller's side of its request.
const Add = defineRequest('urn:example:calc:1', 'add', {
  request: object({ a: int(), b: int() }),
  response: object({ sum: int() }),
});

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the README shows the example agent as it is in examples/agent/calc.ts', () => {
  const source = readFileSync(`${root}examples/agent/calc.ts`, 'utf8').trim();
  assert.ok(
    readFileSync(`${root}README.md`, 'utf8').includes(source),
    'README.md must quote examples/agent/calc.ts verbatim',
  );
  assert.ok(source.split('\n').length < 40, 'the example stays under 40 lines');
});

test('the example agent answers a typed request and a chat command', async () => {
  const t = await startEjabberd();
  await t.register('calc', 'calc-pw');
  const child = spawn(process.execPath, [`${root}dist/examples/agent/calc.js`], {
    env: {
      ...process.env,
      CALC_SERVER: `127.0.0.1:${t.server.info.c2sPort}`,
      CALC_PASSWORD: 'calc-pw',
      CALC_CA: t.server.info.certFile,
      CALC_LOG: 'silent',
    },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  try {
    const me = await makeAgent(t, 'user');
    await me.start();
    let res: { sum: number } | undefined;
    for (let i = 0; i < 100 && !res; i++) {
      try {
        res = await me.request(Add, `calc@${t.host}/${await calcResource(me)}`, { a: 20, b: 22 }, { timeoutMs: 1000 });
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.deepEqual(res, { sum: 42 });
    const reply = new Promise<string>((r) =>
      me.conn.on('stanza', (el: Element) => {
        if (el.is('message') && el.attrs.type === 'chat') r(el.getChildText('body') ?? '');
      }),
    );
    const m = new Element('message', { to: `calc@${t.host}`, type: 'chat' });
    m.c('body').t('add 2 3');
    await me.conn.send(m);
    assert.equal(await reply, '5');
    await me.stop();
  } finally {
    child.kill('SIGINT');
    assert.equal(await exited, 0, 'stops cleanly on SIGINT');
  }
});

/** The example does not choose a resource: learn it from its presence. */
async function calcResource(me: Awaited<ReturnType<typeof makeAgent>>): Promise<string> {
  await me.announceTo(`calc@localhost`);
  for (let i = 0; i < 50; i++) {
    const p = me.peers().find((x) => x.bare === 'calc@localhost');
    if (p) return p.jid.split('/')[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('calc agent not online');
}
