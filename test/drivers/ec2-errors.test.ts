/** EC2 error codes → CloudError kinds, built from the code alone. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { CloudError } from '../../drivers/index.js';
import { mapEc2Error } from '../../drivers/ec2/errors.js';
import { normalizeEc2State } from '../../drivers/ec2/mapping.js';

function sdkError(name: string, status: number, message = 'server said something'): EC2ServiceException {
  return new EC2ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'req-1' },
    message,
  });
}

describe('ec2 error mapping', () => {
  const cases: Array<[string, number, string]> = [
    ['InstanceLimitExceeded', 400, 'quota'],
    ['VcpuLimitExceeded', 400, 'quota'],
    ['VolumeLimitExceeded', 400, 'quota'],
    ['InsufficientInstanceCapacity', 500, 'capacity'],
    ['InsufficientHostCapacity', 400, 'capacity'],
    ['AuthFailure', 401, 'auth'],
    ['UnauthorizedOperation', 403, 'auth'],
    ['InvalidClientTokenId', 403, 'auth'],
    ['SignatureDoesNotMatch', 403, 'auth'],
    ['ExpiredToken', 400, 'auth'],
    ['InvalidAMIID.NotFound', 400, 'invalid'],
    ['InvalidAMIID.Malformed', 400, 'invalid'],
    ['InvalidParameterValue', 400, 'invalid'],
    ['InvalidParameterCombination', 400, 'invalid'],
    ['InvalidInstanceType', 400, 'invalid'],
    ['InvalidInstanceID.NotFound', 400, 'not-found'],
    ['RequestLimitExceeded', 503, 'unavailable'],
    ['Throttling', 400, 'unavailable'],
    ['InternalError', 500, 'unavailable'],
    ['SomethingNew', 503, 'unavailable'],
    ['SomethingElse', 400, 'invalid'],
  ];
  for (const [code, status, kind] of cases) {
    it(`${code} (HTTP ${status}) → ${kind}`, () => {
      const e = mapEc2Error(sdkError(code, status), 'run-instances');
      assert.ok(e instanceof CloudError);
      assert.equal(e.kind, kind);
      assert.equal(e.message, `ec2 run-instances failed: ${code} (HTTP ${status}) request req-1`);
    });
  }

  it('maps network errors and timeouts to unavailable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
      $metadata: { attempts: 2 },
    });
    assert.equal(mapEc2Error(refused, 'describe-instances').kind, 'unavailable');
    assert.match(mapEc2Error(refused, 'describe-instances').message, /ECONNREFUSED/);
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    assert.equal(mapEc2Error(timeout, 'describe-instances').kind, 'unavailable');
  });

  it('never copies the SDK message, which may quote the string-to-sign', () => {
    const leaky = sdkError(
      'SignatureDoesNotMatch',
      403,
      'The canonical string ... Credential=AKIDLEAK/20240101 ... secret=wJalrXUtnFEMI',
    );
    const e = mapEc2Error(leaky, 'describe-instances');
    assert.doesNotMatch(`${e.message} ${e.stack} ${JSON.stringify(e)}`, /AKIDLEAK|wJalrXUtnFEMI/);
    assert.equal(e.cause, undefined);
  });

  it('does not trust a code that is not code-shaped', () => {
    const e = mapEc2Error(sdkError('secret value with spaces', 400), 'x');
    assert.doesNotMatch(e.message, /secret value/);
  });
});

describe('ec2 state map', () => {
  it('normalizes every EC2 state, with an unknown fallback', () => {
    const words = ['pending', 'running', 'shutting-down', 'stopping', 'stopped', 'terminated', 'rebooting', undefined];
    assert.deepEqual(words.map(normalizeEc2State), [
      'pending',
      'running',
      'stopping',
      'stopping',
      'stopping',
      'terminated',
      'unknown',
      'unknown',
    ]);
  });
});
