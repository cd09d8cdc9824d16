/**
 * SDK error → CloudError, by the EC2 error code
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 * The SDK's own message can echo request data (a SignatureDoesNotMatch answer quotes the
 * string-to-sign, which names the access key), so our message is rebuilt from the code,
 * the HTTP status and the request id only, and the raw error is not kept as `cause`.
 */
import { CloudError, type CloudErrorKind } from '../shared/index.js';

const AUTH = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'MissingAuthenticationToken',
  'OptInRequired',
  'CredentialsProviderError',
]);
const THROTTLE = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'TooManyRequestsException',
  'SlowDown',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);
const UNAVAILABLE = new Set(['Unavailable', 'ServiceUnavailable', 'InternalError', 'InternalFailure']);

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
}

/** Only a token-shaped code is used, so nothing else of the error can reach a message. */
function safe(v: unknown): string | undefined {
  return typeof v === 'string' && /^[A-Za-z0-9._:-]{1,100}$/.test(v) ? v : undefined;
}

export function ec2ErrorCode(err: unknown): string {
  const e = (err ?? {}) as SdkErrorShape;
  // Node's network errors carry their errno name in `code`; EC2's answers in `Code`/`name`.
  return (
    safe(e.Code) ??
    (typeof e.code === 'string' && NETWORK.has(e.code) ? e.code : undefined) ??
    safe(e.name) ??
    'UnknownError'
  );
}

export function ec2ErrorKind(code: string, status?: number): CloudErrorKind {
  if (NETWORK.has(code) || THROTTLE.has(code) || status === 429) return 'unavailable';
  if (AUTH.has(code)) return 'auth';
  if (code.endsWith('LimitExceeded') || code === 'MaxSpotInstanceCountExceeded') return 'quota';
  if (/^Insufficient.*Capacity$/.test(code)) return 'capacity';
  if (code === 'InvalidInstanceID.NotFound') return 'not-found';
  if (
    code.startsWith('Invalid') ||
    code.startsWith('Unsupported') ||
    ['MissingParameter', 'IdempotentParameterMismatch', 'ValidationError'].includes(code)
  )
    return 'invalid';
  if (UNAVAILABLE.has(code) || (status !== undefined && status >= 500)) return 'unavailable';
  if (status !== undefined && status >= 400) return 'invalid';
  return 'unavailable';
}

export function mapEc2Error(err: unknown, op: string): CloudError {
  if (err instanceof CloudError) return err;
  const e = (err ?? {}) as SdkErrorShape;
  const code = ec2ErrorCode(err);
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const requestId = safe(e.$metadata?.requestId);
  const parts = [`ec2 ${op} failed: ${code}`];
  if (status !== undefined) parts.push(`(HTTP ${status})`);
  if (requestId) parts.push(`request ${requestId}`);
  return new CloudError(ec2ErrorKind(code, status), parts.join(' '));
}
