/**
 * One bounded HTTP request: a deadline covering connect, headers and body, and a size cap,
 * because a context download or a metadata probe must never hang or fill memory.
 */
export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  body: Buffer;
}

/** The request got no HTTP answer; `timedOut` tells a silent peer from a refused or unreachable one. */
export class HttpFailure extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpFailure';
  }
}

export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** Resolves with any HTTP status; rejects on network failure, timeout or oversize body. */
export async function httpRequest(url: string, opts: HttpOptions): Promise<HttpResponse> {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      body: opts.body,
      signal,
      redirect: 'follow',
    });
  } catch (err) {
    throw describe(err, url, opts.timeoutMs);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new HttpFailure(`${url}: body of ${declared} bytes exceeds the ${max}-byte limit`, false);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body) {
        size += chunk.byteLength;
        if (size > max) throw new HttpFailure(`${url}: body exceeds the ${max}-byte limit`, false);
        chunks.push(Buffer.from(chunk));
      }
    }
  } catch (err) {
    await res.body?.cancel().catch(() => undefined);
    throw describe(err, url, opts.timeoutMs);
  }
  return { status: res.status, body: Buffer.concat(chunks) };
}

/** fetch() reports "fetch failed" with the useful part in `cause`; surface it. */
function describe(err: unknown, url: string, timeoutMs: number): HttpFailure {
  if (err instanceof HttpFailure) return err;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new HttpFailure(`${url}: no answer within ${timeoutMs} ms`, true, { cause: err });
  const why = e.cause?.code ?? e.cause?.message ?? e.message;
  return new HttpFailure(`${url}: ${why}`, false, { cause: err });
}
