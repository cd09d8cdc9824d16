/**
 * When the server ends a session with a stream error, the agent's offline event (and its
 * log) says which: here a second login under the same full JID replaces the first, and
 * ejabberd ends the first stream with <conflict/>. Before, the event said nothing at all,
 * which left a session dropped under load ("Too many unacked stanzas") unexplained.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentEvent } from '../../core/index.js';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';

test('an offline event carries the stream error the server closed the session with', { timeout: 90_000 }, async () => {
  const t = await startEjabberd();
  const first = await makeAgent(t, 'twin', { resource: 'same' });
  const offline = new Promise<string | undefined>((resolve) => {
    first.on('status', (e: AgentEvent) => {
      if (e.type === 'offline') resolve(e.reason);
    });
  });
  await first.start();
  after(() => first.stop());
  const second = await makeAgent(t, 'twin', { resource: 'same' });
  await second.start();
  after(() => second.stop());
  assert.match((await offline) ?? 'no reason', /stream error conflict/);
});
