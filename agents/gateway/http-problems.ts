/**
 * Errors of the HTTP API as RFC 9457 problem details (application/problem+json): a stable
 * `code` per application condition (the same names as the IQ API's application
 * conditions), the HTTP status that goes with it, a human `detail`, and `field` when one
 * input is at fault. Never a stack trace; an unexpected error is logged and answered 500
 * without its message.
 */
import { CloudgateError, ConfigInvalidError } from '../../core/index.js';
import { StanzaError } from '../../protocols/index.js';
import type { ContextRejectedError } from './model/index.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
  problems?: unknown[];
  instance?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly extra: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: `https://cloudgate.invalid/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    ...extra,
  };
}

const STANZA: Record<string, number> = {
  'item-not-found': 404,
  forbidden: 403,
  'not-authorized': 403,
  'not-acceptable': 422,
  'bad-request': 422,
  'resource-constraint': 429,
  conflict: 409,
  'not-allowed': 409,
};

/** The problem for any error a handler or fastify threw; `unexpected` is told of the ones that are bugs. */
export function toProblem(err: unknown, unexpected: (err: unknown) => void): Problem {
  if (err instanceof HttpProblem)
    return problem(err.status, err.code, err.message, err.extra.field ? { field: err.extra.field } : {});
  const e = err as {
    code?: string;
    statusCode?: number;
    validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>;
    validationContext?: string;
    message?: string;
  };
  if (e?.validation) {
    const v = e.validation[0];
    const extraProp = v?.params?.additionalProperty ?? v?.params?.additionalProperties;
    const path = `${e.validationContext ?? 'body'}${v?.instancePath?.replace(/\//g, '.') ?? ''}${extraProp ? `.${String(extraProp)}` : ''}`;
    return problem(400, 'invalid-field', `${path}: ${extraProp ? 'unknown field' : (v?.message ?? 'invalid')}`, {
      field: path,
    });
  }
  if (err instanceof ConfigInvalidError) return problem(422, 'invalid-field', err.message, { field: 'definition' });
  if (err instanceof StanzaError) return problem(STANZA[err.condition] ?? 400, err.app ?? err.condition, err.message);
  if (err instanceof CloudgateError) {
    switch (err.code) {
      case 'CG_NOT_FOUND':
        return problem(404, 'not-found', err.message);
      case 'CG_FORBIDDEN':
        return problem(403, 'not-in-acl', err.message);
      case 'CG_INVALID': {
        const field = (err as { field?: string }).field;
        return problem(422, 'invalid-field', err.message, field ? { field } : {});
      }
      case 'CG_CONTEXT_REJECTED':
        return problem(422, 'invalid-context', err.message, {
          field: 'body',
          problems: [...(err as ContextRejectedError).problems],
        });
      case 'CG_CONFLICT':
        return problem(409, 'conflict', err.message);
      case 'CG_ILLEGAL_TRANSITION':
        return problem(409, 'illegal-transition', err.message);
      case 'CG_CONTEXT_PASSPHRASE':
        return problem(403, 'passphrase', err.message, { field: 'passphrase' });
      case 'CG_CONTEXT_PASSPHRASE_REQUIRED':
        return problem(422, 'passphrase', err.message, { field: 'passphrase' });
      case 'CG_PLACEMENT':
        return problem(409, 'capacity', err.message);
      default:
        break;
    }
  }
  // fastify's own: body parsing and limits (FST_ERR_CTP_*), unknown routes.
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return problem(413, 'body-too-large', 'the request body is larger than the limit');
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return problem(415, 'unsupported-media-type', 'send application/json (or text/plain where documented)');
  if (e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return problem(400, 'malformed-json', 'the body is empty but the content type is JSON');
  if (e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (e?.statusCode === 400 && err instanceof SyntaxError))
    return problem(400, 'malformed-json', `the body is not valid JSON`);
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return problem(e.statusCode, 'bad-request', e.message ?? 'bad request');
  unexpected(err);
  return problem(500, 'internal', 'internal error (logged)');
}
