/**
 * The cluster definition form as data (agents/gateway/web-clusters-form.ts): a posted form
 * becomes the INI the CLI reads, a stored definition fills the form back in, values cannot
 * write lines of their own, and each parse problem lands on the field it came from.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigInvalidError } from '../../core/index.js';
import { parseCluster, type ClusterRecord } from '../../agents/gateway/model/index.js';
import {
  autoscaleSections,
  formFromPost,
  formOf,
  issuesByField,
  toIni,
} from '../../agents/gateway/web-clusters-form.js';

const post = {
  csrf: 'x',
  name: 'batch',
  description: 'Head node plus workers',
  original: '',
  's0.name': 'head',
  's0.type': 'fixed',
  's0.order': '1',
  's0.count': '1',
  's0.flavor': 'medium',
  's0.image': 'cernvm-4',
  's0.context': 'head',
  's0.clouds': 'cloud-a cloud-b',
  's1.name': 'gone',
  's1.type': 'fixed',
  's1.flavor': 'small',
  's1.image': 'x',
  's1.remove': '1',
  's2.name': 'worker',
  's2.type': 'scalable',
  's2.depends': 'head',
  's2.min': '1',
  's2.initial': '3',
  's2.max': '10',
  's2.flavor': 'cores:2,memory:4096',
  's2.image': 'cernvm-4',
  's2.context': 'worker',
  's2.context_version': '2',
  's3.type': 'fixed',
};

const record = (ini: string): ClusterRecord => {
  const definition = parseCluster(ini);
  return { name: definition.name, owner: 'a@b', ini, definition, createdAt: 0, updatedAt: 0 };
};

describe('cluster definition form', () => {
  test('a posted form becomes the INI the CLI reads, without removed and empty rows', () => {
    const form = formFromPost(post);
    assert.deepEqual(
      form.rows.map((r) => r.name),
      ['head', 'worker'],
    );
    const { ini, errors } = toIni(form);
    assert.equal(errors.size, 0);
    const def = parseCluster(ini);
    const example = parseCluster(readFileSync('examples/cluster.ini', 'utf8'));
    // The example differs only in its clouds of the worker.
    assert.deepEqual(def.services[0], example.services[0]);
    assert.deepEqual(
      { ...def.services[1], clouds: [] },
      { ...example.services[1], clouds: [], context: { ref: 'worker', version: 2 } },
    );
    assert.equal(def.description, 'Head node plus workers');
  });

  test('a stored definition fills the form, and the form gives the same definition back', () => {
    const stored = record(readFileSync('examples/cluster.ini', 'utf8'));
    const form = formOf(stored);
    assert.equal(form.original, 'batch');
    assert.equal(form.rows[1]!.flavor, 'cores:2,memory:4096');
    assert.equal(form.rows[1]!.clouds, 'cloud-a cloud-b');
    assert.deepEqual(parseCluster(toIni(form).ini), stored.definition);
  });

  test('a value with a line break cannot add a line to the INI', () => {
    const form = formFromPost({ ...post, 's0.image': 'x\n[service.evil]\ntype = fixed' });
    assert.equal(form.rows[0]!.image, 'x\n[service.evil]\ntype = fixed');
    const { errors } = toIni(form);
    assert.match(errors.get('s0.image')!.join(), /one line/);
  });

  test('no service at all is a problem of the whole form', () => {
    const { errors } = toIni(formFromPost({ name: 'x' }));
    assert.match(errors.get('')!.join(), /at least one service/);
  });

  test("each problem of the INI lands on its row's field", () => {
    const form = formFromPost({
      ...post,
      's2.max': '',
      's2.depends': 'haed',
      's0.min': '2',
    });
    const { ini } = toIni(form);
    const err = (() => {
      try {
        parseCluster(ini);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof ConfigInvalidError, String(err));
    const by = issuesByField(form, err.issues);
    assert.match(by.get('s1.max')!.join(), /missing required key/);
    assert.match(by.get('s1.depends')!.join(), /unknown service 'haed' \(did you mean 'head'\?\)/);
    assert.match(by.get('s0.min')!.join(), /only for scalable services/);
  });

  test('autoscale sections of a stored definition are kept verbatim', () => {
    const ini = `${readFileSync('examples/cluster.ini', 'utf8')}\n[autoscale.worker]\nmetric = cpu\ntarget = 60\n`;
    assert.equal(autoscaleSections(ini), '[autoscale.worker]\nmetric = cpu\ntarget = 60');
    assert.equal(autoscaleSections(readFileSync('examples/cluster.ini', 'utf8')), '');
  });
});
