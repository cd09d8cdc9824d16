/** Chat commands are refused unless they declare who may run them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatRouter, type ChatCommand, type ChatContext } from '../../core/index.js';
import { silent } from '../helpers/agents.js';

const ctx = (bare: string): ChatContext => ({ from: `${bare}/r`, bare, reply: async () => {}, log: silent });

test('a command without an allow rule is refused to everyone and left out of help', async () => {
  const chat = new ChatRouter('test');
  let ran = 0;
  // As a plain-JavaScript module (or a cast) could add it: no allow at all.
  chat.add({
    name: 'open',
    usage: 'open',
    summary: 'forgot its rule',
    run: () => {
      ran++;
      return 'ran';
    },
  } as unknown as ChatCommand);
  chat.add({
    name: 'echo',
    usage: 'echo <w>',
    summary: 'anyone',
    allow: () => true,
    run: (a) => a.positional.join(' '),
  });
  chat.add({ name: 'mine', usage: 'mine', summary: 'alice only', allow: (b) => b === 'alice@x', run: () => 'yours' });

  assert.match(await chat.dispatch('open', ctx('alice@x')), /not allowed to run 'open'/);
  assert.equal(ran, 0);
  assert.equal(await chat.dispatch('echo hi', ctx('bob@x')), 'hi');
  assert.equal(await chat.dispatch('mine', ctx('alice@x')), 'yours');
  assert.match(await chat.dispatch('mine', ctx('bob@x')), /not allowed/);
  const help = await chat.dispatch('help', ctx('bob@x'));
  assert.match(help, /echo/);
  assert.doesNotMatch(help, /open|mine/);
});
