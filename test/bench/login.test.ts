/**
 * The login benchmark runs end to end (its own ejabberd, agent and stock-client logins in
 * turn) and prints the figures it promises for both; it asserts no speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../bench/main.js', import.meta.url));

test('bench login: figures for the agent and for the stock client', { timeout: 120_000 }, () => {
  const r = spawnSync(process.execPath, [main, 'login', '--logins', '2', '--warmup', '0'], {
    encoding: 'utf8',
    timeout: 110_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.logins, 2);
  // The baseline may have failed a login on a loaded machine: counted, and its figures come from the rest.
  const kinds = out.stock_client_failed_logins < 2 ? ['login', 'baseline_stock_client'] : ['login'];
  for (const k of kinds) {
    for (const f of ['p50_ms', 'p90_ms', 'cpu_ms']) {
      assert.ok(Number.isFinite(out[k][f]) && out[k][f] > 0, `${k}.${f} = ${out[k][f]}`);
    }
    // Read from /proc in clock ticks (10 ms): two logins may not reach one.
    assert.ok(Number.isFinite(out[k].ejabberd_cpu_ms) && out[k].ejabberd_cpu_ms >= 0);
  }
  assert.equal(typeof out.stock_client_errors, 'number');
  assert.equal(typeof out.stock_client_failed_logins, 'number');
});
