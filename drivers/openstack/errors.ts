/**
 * OpenStack answers → CloudError. Nova and Glance put a human message in the body
 * ({"badRequest": {"message": ...}}, {"forbidden": ...}); it names the field at fault and
 * never holds a credential (those go to Keystone only, whose answers are not quoted).
 */
import { CloudError, type CloudErrorKind } from '../shared/index.js';

const NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR|other side closed/;

/** The message of a Nova/Glance/Neutron error body, cut short and on one line. */
export function bodyMessage(body: string): string | undefined {
  let msg: unknown;
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const inner = Object.values(j)[0] as { message?: unknown } | undefined;
    msg = inner && typeof inner === 'object' ? inner.message : undefined;
    if (msg === undefined && typeof j.message === 'string') msg = j.message;
    if (msg === undefined && typeof j.NeutronError === 'object')
      msg = (j.NeutronError as { message?: unknown }).message;
  } catch {
    // Glance answers some errors as HTML/plain text: its first line, stripped of tags.
    msg = body.replace(/<[^>]*>/g, ' ').trim();
  }
  if (typeof msg !== 'string' || msg === '') return undefined;
  return msg.replace(/\s+/g, ' ').slice(0, 300);
}

export function statusKind(status: number, message = ''): CloudErrorKind {
  if (/quota exceeded|exceeds.*quota|over.?limit/i.test(message) || status === 413) return 'quota';
  if (/no valid host/i.test(message)) return 'capacity';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status === 429 || status >= 500) return 'unavailable';
  if (status >= 400) return 'invalid';
  return 'unavailable';
}

/** A refusal: "<service> <op>: HTTP <status>: <message>". */
export function httpError(service: string, op: string, status: number, body: string): CloudError {
  const message = service === 'identity' ? undefined : bodyMessage(body);
  return new CloudError(
    statusKind(status, message),
    `openstack ${service} ${op} failed: HTTP ${status}${message ? `: ${message}` : ''}`,
  );
}

/** A request that got no answer (refused, reset, timed out); the cause's own text is dropped. */
export function networkError(service: string, op: string, err: unknown): CloudError {
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string } };
  const code =
    (e?.name === 'TimeoutError' || e?.name === 'AbortError' ? 'timeout' : undefined) ??
    [e?.cause?.code, e?.code].find((c) => typeof c === 'string' && NETWORK.test(c)) ??
    (typeof e?.cause?.message === 'string' && NETWORK.test(e.cause.message) ? 'connection closed' : 'no answer');
  return new CloudError('unavailable', `openstack ${service} ${op} failed: ${code}`);
}

/** Nova's fault of a server in ERROR, as the kind of refusal it stands for. */
export function faultKind(message: string | undefined): CloudErrorKind | undefined {
  if (!message) return undefined;
  if (/no valid host/i.test(message)) return 'capacity';
  if (/quota/i.test(message)) return 'quota';
  return 'unavailable';
}
