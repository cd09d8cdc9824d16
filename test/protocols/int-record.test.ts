/** Deploy counts travel as integers: the same <entry k> XML as before, decoded to numbers or refused naming the key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateway as gw, StanzaError } from '../../protocols/index.js';

test('deploy counts decode to integers; text that is not one is refused naming the service', () => {
  const el = gw.Deploy.request.encode({ cluster: 'batch', counts: { worker: 3, head: 0 } });
  assert.equal(
    el
      .getChild('counts')
      ?.getChildren('entry')
      .map((e) => `${e.attrs.k}=${e.getText()}`)
      .join(' '),
    'worker=3 head=0',
  );
  assert.deepEqual({ ...gw.Deploy.request.decode(el).counts }, { worker: 3, head: 0 });

  for (const bad of ['2.5', 'x', '-1', '']) {
    const e = gw.Deploy.request.encode({ cluster: 'batch' });
    e.c('counts').c('entry', { k: 'worker' }).t(bad);
    assert.throws(
      () => gw.Deploy.request.decode(e),
      (err: unknown) =>
        err instanceof StanzaError && err.app === 'invalid-field' && /counts\[worker\]/.test(err.message),
      bad,
    );
  }
});
