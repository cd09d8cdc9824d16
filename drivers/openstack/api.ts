/**
 * Calls to the services of the catalog through one Keystone session: the token in
 * X-Auth-Token, the compute microversion in OpenStack-API-Version, one more try with a
 * fresh token on 401, and every failure turned into a CloudError (errors.ts).
 */
import type { Logger } from 'pino';
import { CloudError } from '../shared/index.js';
import { httpError, networkError } from './errors.js';
import type { OpenStackOptions } from './options.js';
import type { KeystoneSession } from './session.js';

export type Service = 'compute' | 'image';

export interface CallOptions {
  body?: unknown;
  /** Statuses returned to the caller as `undefined` instead of thrown (e.g. 404 on a read). */
  allow?: readonly number[];
}

export class OpenStackApi {
  constructor(
    private readonly o: OpenStackOptions,
    readonly session: KeystoneSession,
    private readonly log: Logger,
  ) {}

  async call<T>(service: Service, method: string, path: string, opts: CallOptions = {}): Promise<T | undefined> {
    const op = `${method} ${path.split('?')[0]}`;
    let token = await this.session.current();
    for (let attempt = 0; ; attempt++) {
      const base = this.session.endpoint(token, service);
      const headers: Record<string, string> = { 'x-auth-token': token.value, accept: 'application/json' };
      if (service === 'compute') headers['openstack-api-version'] = `compute ${this.o.computeMicroversion}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: AbortSignal.timeout(this.o.requestTimeoutMs),
        });
      } catch (err) {
        // A read is safe to send again once after a dropped connection; a create is not.
        if (attempt === 0 && method === 'GET') continue;
        throw this.logged(networkError(service, op, err));
      }
      const text = await res.text();
      if (res.status === 401 && attempt === 0) {
        this.log.info({ service, op }, 'token refused, logging in again');
        token = await this.session.refused(token.value);
        continue;
      }
      if (res.ok) {
        if (!text) return undefined;
        try {
          return JSON.parse(text) as T;
        } catch {
          throw this.logged(new CloudError('unavailable', `openstack ${service} ${op} answered with no JSON`));
        }
      }
      if (opts.allow?.includes(res.status)) return undefined;
      throw this.logged(httpError(service, op, res.status, text));
    }
  }

  private logged(err: CloudError): CloudError {
    this.log[err.kind === 'not-found' ? 'debug' : 'warn'](
      { kind: err.kind, error: err.message },
      'openstack call failed',
    );
    return err;
  }
}
