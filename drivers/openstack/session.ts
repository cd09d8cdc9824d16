/**
 * A Keystone v3 session: one project-scoped token and its service catalog
 * (https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization,
 * #authenticating-with-an-application-credential). The token is renewed before it expires
 * (token_renew_before_s, at most half its lifetime) and once more when a service answers
 * 401 to it; concurrent callers share one renewal. Neither the token nor the password is
 * ever logged or put in a message.
 */
import type { Logger } from 'pino';
import { CloudError } from '../shared/index.js';
import { httpError, networkError } from './errors.js';
import type { OpenStackAuth, OpenStackOptions } from './options.js';

interface CatalogEntry {
  type: string;
  endpoints: Array<{ interface: string; region?: string; region_id?: string; url: string }>;
}

interface Token {
  value: string;
  renewAt: number;
  expiresAt: number;
  catalog: CatalogEntry[];
  projectId?: string;
}

export class KeystoneSession {
  private token?: Token;
  private pending?: Promise<Token>;
  /** How many tokens were obtained (renewals included); for tests and metrics. */
  logins = 0;

  constructor(
    private readonly o: OpenStackOptions,
    private readonly auth: OpenStackAuth,
    private readonly log: Logger,
  ) {}

  /** A valid token, renewed first when it is close to its expiry. */
  async current(): Promise<Token> {
    if (this.token && Date.now() < this.token.renewAt) return this.token;
    return this.renew();
  }

  /** After a 401: forget `stale` and log in again (once, whoever asks). */
  async refused(stale: string): Promise<Token> {
    if (this.token && this.token.value !== stale) return this.token;
    this.token = undefined;
    return this.renew();
  }

  get expiresAt(): number | undefined {
    return this.token?.expiresAt;
  }

  private renew(): Promise<Token> {
    this.pending ??= this.login().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private body(): unknown {
    const a = this.auth;
    if (a.method === 'application_credential')
      return {
        auth: {
          identity: { methods: ['application_credential'], application_credential: { id: a.id, secret: a.secret } },
        },
      };
    const user = a.user.id ? { id: a.user.id } : { name: a.user.name, domain: { name: a.user.domain } };
    const project = a.project.id ? { id: a.project.id } : { name: a.project.name, domain: { name: a.project.domain } };
    return {
      auth: {
        identity: { methods: ['password'], password: { user: { ...user, password: a.password } } },
        scope: { project },
      },
    };
  }

  private async login(): Promise<Token> {
    let res: Response;
    try {
      res = await fetch(`${this.o.authUrl}/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(this.body()),
        signal: AbortSignal.timeout(this.o.requestTimeoutMs),
      });
    } catch (err) {
      throw networkError('identity', 'login', err);
    }
    const text = await res.text();
    const value = res.headers.get('x-subject-token');
    if (!res.ok || !value) throw httpError('identity', 'login', res.status, text);
    let t: { expires_at?: string; issued_at?: string; catalog?: CatalogEntry[]; project?: { id?: string } };
    try {
      t = (JSON.parse(text) as { token: typeof t }).token;
    } catch {
      throw new CloudError('unavailable', 'openstack identity login answered without a token body');
    }
    const expiresAt = Date.parse(t.expires_at ?? '');
    if (!Number.isFinite(expiresAt)) throw new CloudError('unavailable', 'openstack identity token has no expiry');
    const issuedAt = Date.parse(t.issued_at ?? '') || Date.now();
    const lifetime = expiresAt - issuedAt;
    const before = Math.min(this.o.tokenRenewBeforeMs, lifetime / 2);
    this.logins++;
    this.token = { value, expiresAt, renewAt: expiresAt - before, catalog: t.catalog ?? [], projectId: t.project?.id };
    this.log.debug({ expiresAt: new Date(expiresAt).toISOString(), logins: this.logins }, 'keystone token obtained');
    return this.token;
  }

  /** The URL of service `type` in the catalog, for the configured region and interface. */
  endpoint(token: Token, type: string): string {
    const entry = token.catalog.find((c) => c.type === type);
    const eps = (entry?.endpoints ?? []).filter(
      (e) => e.interface === this.o.interface && (!this.o.region || (e.region_id ?? e.region) === this.o.region),
    );
    if (!eps[0])
      throw new CloudError(
        'invalid',
        `the service catalog has no ${this.o.interface} "${type}" endpoint${this.o.region ? ` in region "${this.o.region}"` : ''}`,
      );
    return eps[0].url.replace(/\/+$/, '');
  }
}
