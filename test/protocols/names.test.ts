/**
 * One instance-name rule (protocols/names.ts) for cluster definitions, the wire and the
 * drivers: a service name whose instance names could not fit is refused when the cluster
 * is defined, not half-way through a deployment.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from 'ltx';
import { ConfigInvalidError } from '../../core/index.js';
import { cloud, instanceNameProblem, INSTANCE_NAME_MAX, SERVICE_NAME_MAX, StanzaError } from '../../protocols/index.js';
import { parseCluster } from '../../agents/gateway/model/index.js';

const cluster = (service: string) =>
  `[cluster]\nname = c\n[service.${service}]\ntype = scalable\nmin = 0\nmax = 999999\nflavor = small\nimage = img\n`;
const allocate = (names: string[]) => ({
  request_id: 'r1',
  deployment: 'd-0123456789ab',
  service: 'w',
  owner: 'ann@x',
  flavor: 'small',
  image: 'img',
  names,
  context: '',
  context_version: 0,
  allow: ['gw@x'],
});

describe('instance names', () => {
  test('a service name too long for its instance names is refused at definition time', () => {
    const long = `w${'x'.repeat(49)}`;
    assert.throws(
      () => parseCluster(cluster(long), 'c.ini'),
      (e: Error) =>
        e instanceof ConfigInvalidError &&
        e.message ===
          `c.ini:3 [service.${long}]: service name longer than ${SERVICE_NAME_MAX} characters (50): its instance names <deployment>-<service>-<n> must fit in ${INSTANCE_NAME_MAX}`,
    );
    const longest = `w${'x'.repeat(SERVICE_NAME_MAX - 1)}`;
    assert.equal(parseCluster(cluster(longest), 'c.ini').services[0]!.name, longest);
  });

  test('the longest service name gives instance names the wire and the drivers accept', () => {
    const name = `d-0123456789ab-w${'x'.repeat(SERVICE_NAME_MAX - 1)}-999999`;
    assert.equal(name.length, INSTANCE_NAME_MAX - 2, 'a gateway deployment id leaves two characters to spare');
    assert.equal(instanceNameProblem(name), undefined);
    const p = cloud.Allocate.payload;
    assert.deepEqual(p.decode(p.encode(allocate([name])) as Element).names, [name]);
  });

  test('the wire refuses an instance name the drivers would refuse', () => {
    const name = 'n'.repeat(INSTANCE_NAME_MAX + 1);
    assert.match(instanceNameProblem(name)!, /must be 1-63 characters/);
    const p = cloud.Allocate.payload;
    assert.throws(
      () => p.decode(p.encode(allocate([name])) as Element),
      (e: Error) => e instanceof StanzaError && /names\[0\]: longer than 63 characters \(64\)/.test(e.message),
    );
  });
});
