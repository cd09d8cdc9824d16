/**
 * LibvirtError → CloudError. @unraid/libvirt 2.x passes only libvirt's message text
 * (code, domain and level arrive as -1), so the message is matched too; the numeric
 * virErrorNumber (libvirt/virterror.h) is honoured if a later binding fills it in.
 */
import { CloudError, type CloudErrorKind } from '../shared/index.js';

const BY_CODE: Record<number, CloudErrorKind> = {
  2: 'capacity', // VIR_ERR_NO_MEMORY
  5: 'unavailable', // VIR_ERR_NO_CONNECT
  8: 'invalid', // VIR_ERR_INVALID_ARG
  27: 'invalid', // VIR_ERR_XML_ERROR
  28: 'invalid', // VIR_ERR_DOM_EXIST
  29: 'auth', // VIR_ERR_OPERATION_DENIED
  35: 'invalid', // VIR_ERR_XML_DETAIL
  38: 'unavailable', // VIR_ERR_SYSTEM_ERROR
  39: 'unavailable', // VIR_ERR_RPC
  42: 'not-found', // VIR_ERR_NO_DOMAIN
  45: 'auth', // VIR_ERR_AUTH_FAILED
  55: 'invalid', // VIR_ERR_OPERATION_INVALID
  67: 'invalid', // VIR_ERR_CONFIG_UNSUPPORTED
  68: 'unavailable', // VIR_ERR_OPERATION_TIMEOUT
  79: 'auth', // VIR_ERR_AUTH_CANCELLED
  88: 'auth', // VIR_ERR_ACCESS_DENIED
  92: 'invalid', // VIR_ERR_XML_INVALID_SCHEMA
  94: 'auth', // VIR_ERR_AUTH_UNAVAILABLE
};

// Order matters: the first match wins.
const BY_MESSAGE: ReadonlyArray<[RegExp, CloudErrorKind]> = [
  [/domain not found|no domain with matching|domain .* does not exist/i, 'not-found'],
  [/authenticat|access denied|permission denied|not permitted|operation forbidden|polkit/i, 'auth'],
  [
    /failed to connect|no connection|connection (reset|refused|closed)|end of file while reading|cannot recv|broken pipe|timed out|socket|not connected|unable to connect/i,
    'unavailable',
  ],
  [/cannot allocate|out of memory|insufficient|not enough|too many|exceeds|maximum (cpus|vcpus)/i, 'capacity'],
  [/already exists|invalid|xml|unsupported|missing|malformed|is not running|already running/i, 'invalid'],
];

export function libvirtErrorKind(err: unknown): CloudErrorKind {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'number' && BY_CODE[code]) return BY_CODE[code];
  const msg = err instanceof Error ? err.message : String(err);
  for (const [re, kind] of BY_MESSAGE) if (re.test(msg)) return kind;
  return 'unavailable';
}

/** URIs like qemu+ssh://user:pw@host/ may appear in libvirt's messages; their user info is removed. */
export function sanitize(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]*@/gi, '$1***@');
}

export function mapLibvirtError(err: unknown, op: string): CloudError {
  if (err instanceof CloudError) return err;
  const msg = sanitize(err instanceof Error ? err.message : String(err));
  // No cause: the raw error would carry the unsanitized text into logs.
  return new CloudError(libvirtErrorKind(err), `libvirt ${op} failed: ${msg}`);
}

export function isNotFound(err: unknown): boolean {
  if (err instanceof CloudError) return err.kind === 'not-found';
  return libvirtErrorKind(err) === 'not-found' || /invalid uuid/i.test((err as Error)?.message ?? '');
}

/** After these the connection is unusable and must be reopened. */
export function isConnectionLost(err: unknown): boolean {
  const msg = (err as Error)?.message ?? '';
  return /not connected|connection (reset|closed)|end of file while reading|cannot recv|broken pipe|client socket is closed/i.test(
    msg,
  );
}
