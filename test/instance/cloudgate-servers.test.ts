/**
 * [cloudgate] servers: the nodes of an ejabberd cluster an instance agent tries in turn,
 * as a cloud agent with [instances] servers writes them into user-data; it survives a
 * render (re-contextualization keeps the identity), and a malformed entry is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContext, renderCloudgate, ContextError } from '../../agents/instance/context/index.js';

const base = ['[cloudgate]', 'jid = vm-1@i.example.org', 'token = t.o.k'];

test('[cloudgate] servers lists the nodes in order and renders back', () => {
  const cg = parseContext([...base, 'servers = N1.example.org:5222, 10.0.0.2 [::1]:15222'].join('\n')).cloudgate!;
  assert.deepEqual(cg.servers, [
    { host: 'n1.example.org', port: 5222 },
    { host: '10.0.0.2', port: 5222 },
    { host: '::1', port: 15222 },
  ]);
  assert.ok(Object.isFrozen(cg.servers) && Object.isFrozen(cg.servers![0]));
  const again = parseContext(renderCloudgate(cg)).cloudgate!;
  assert.deepEqual(again.servers, cg.servers);
  assert.equal(parseContext([...base, 'server = x:1'].join('\n')).cloudgate!.servers, undefined);
});

test('[cloudgate] servers with a malformed entry is refused, naming the entry', () => {
  for (const [value, why] of [
    ['a:5222, b:99999', /entry 2: expected host:port, got "b:99999"/],
    ['a:5222, :5222', /entry 2: expected host:port, got ":5222"/],
    [' , ', /expected host:port, host:port/],
  ] as const) {
    assert.throws(
      () => parseContext([...base, `servers = ${value}`].join('\n')),
      (err: unknown) => {
        assert.ok(err instanceof ContextError, String(err));
        assert.equal(err.key, 'servers');
        assert.match(err.message, why);
        return true;
      },
    );
  }
});
