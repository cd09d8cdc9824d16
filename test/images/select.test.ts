/** Images chosen by what they provide, and flavors checked against image requirements. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareVersions,
  parseImageQuery,
  requirementProblem,
  selectImage,
  validateMetadata,
  type ImageMetadata,
} from '../../images/index.js';
import { sampleMetadata } from './sample.js';

const image = (over: Record<string, unknown>): ImageMetadata => validateMetadata(sampleMetadata(over));

describe('image selection', () => {
  const alma9c23 = image({ name: 'alma9-condor', version: '1.0', provides: [{ name: 'htcondor', version: '23.0.4' }] });
  const alma9c24 = image({
    name: 'alma9-condor24',
    version: '1.0',
    provides: [
      { name: 'htcondor', version: '24.1' },
      { name: 'cvmfs', version: '2.11' },
    ],
  });
  const alma9c10 = image({ name: 'alma9-condor10', version: '3.0', provides: [{ name: 'htcondor', version: '10.9' }] });
  const el8 = image({ name: 'centos8', os: { family: 'centos', version: '8.5' }, arch: 'aarch64', provides: [] });
  const all = [alma9c10, alma9c23, el8, alma9c24];
  const pick = (q: string) => selectImage(parseImageQuery(q), all)?.name;

  it('parses terms and refuses bad ones naming the term', () => {
    assert.deepEqual(parseImageQuery('os:alma9, app:htcondor>=23'), [
      { kind: 'os', value: 'alma9' },
      { kind: 'app', name: 'htcondor', op: '>=', version: '23' },
    ]);
    assert.throws(() => parseImageQuery('os:alma9,app:htcondor>='), /term 'app:htcondor>='/);
    assert.throws(() => parseImageQuery('os:alma>=9'), /only app: terms compare versions/);
    assert.throws(() => parseImageQuery('color:blue'), /term 'color:blue'/);
  });

  it('matches os (family, family+version, major), arch and app versions; picks the newest app', () => {
    assert.equal(pick('os:alma9,app:htcondor>=23'), 'alma9-condor24');
    assert.equal(pick('os:alma9,app:htcondor>=23,app:htcondor<24'), 'alma9-condor');
    assert.equal(pick('os:alma,app:htcondor=23'), 'alma9-condor');
    assert.equal(pick('app:htcondor<23'), 'alma9-condor10');
    assert.equal(pick('os:centos8,arch:aarch64'), 'centos8');
    assert.equal(pick('os:centos-8.5'), 'centos8');
    assert.equal(pick('app:cvmfs'), 'alma9-condor24');
    assert.equal(pick('os:alma9,app:htcondor>=25'), undefined);
    assert.equal(pick('os:alma8'), undefined);
    assert.equal(compareVersions('23.10', '23.9'), 1);
    assert.equal(compareVersions('9', '10'), -1);
  });

  it('a flavor below the requirements is named with both sides\u2019 numbers', () => {
    const m = image({ requires: { cores: 2, memory_mb: 4096, disk_gb: 20 } });
    assert.equal(
      requirementProblem('small', { cores: 1, memoryMb: 2048 }, m),
      'flavor small (1 core, 2048 MB) is below what image alma9-condor@1.2.0 requires (2 cores, 4096 MB)',
    );
    assert.equal(requirementProblem('medium', { cores: 2, memoryMb: 4096 }, m), undefined);
    assert.match(
      requirementProblem('big', { cores: 8, memoryMb: 8192, diskGb: 10 }, m)!,
      /\(8 cores, 8192 MB, 10 GB disk\) .* \(2 cores, 4096 MB, 20 GB disk\)/,
    );
  });
});
