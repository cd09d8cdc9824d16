/** The argument readers the gateway's chat commands share, and the refusals they give. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatError } from '../../core/index.js';
import { flagValue, named } from '../../agents/gateway/chat-args.js';

const args = (...positional: string[]) => ({ positional, flags: {}, raw: positional.join(' ') });

test('named: the first argument, or a refusal that says what to name', () => {
  assert.equal(named(args('d-1', 'extra'), 'a deployment'), 'd-1');
  assert.throws(
    () => named(args(), 'an entry'),
    (e: unknown) => e instanceof ChatError && e.message === 'name an entry',
  );
});

test('flagValue: a value or nothing; a flag without its value is refused naming the flag', () => {
  assert.equal(flagValue('x', 'summary'), 'x');
  assert.equal(flagValue(undefined, 'summary'), undefined);
  assert.throws(
    () => flagValue(true, 'tags'),
    (e: unknown) => e instanceof ChatError && e.message === '--tags needs a value',
  );
});
