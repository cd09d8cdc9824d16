/**
 * Just enough of the OpenStack APIs, as the cloud's admin, to seed the test cloud and give
 * each test its own project, user and quotas. Tokens are short-lived in the test cloud, so
 * one is fetched again when it has under half its life left.
 */
export interface Endpoints {
  keystone: string;
  nova: string;
  glance: string;
  placement: string;
  neutron: string;
}

export class OpenStackApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class AdminClient {
  private token?: { value: string; renewAt: number };

  constructor(
    readonly endpoints: Endpoints,
    private readonly password: string,
  ) {}

  private async getToken(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const res = await fetch(`${this.endpoints.keystone}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: this.password } },
          },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    const body = (await res.json()) as { token?: { expires_at: string; issued_at: string } };
    const value = res.headers.get('x-subject-token');
    if (!res.ok || !value || !body.token) throw new OpenStackApiError(res.status, `admin login refused: ${res.status}`);
    const issued = Date.parse(body.token.issued_at);
    const expires = Date.parse(body.token.expires_at);
    this.token = { value, renewAt: Date.now() + (expires - issued) / 2 };
    return value;
  }

  /** One call to `service` as admin; JSON in and out, a non-2xx answer thrown with its body. */
  async call<T = unknown>(
    service: keyof Endpoints,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const init: RequestInit = {
      method,
      headers: {
        'x-auth-token': await this.getToken(),
        accept: 'application/json',
        ...(body !== undefined && !(body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body),
    };
    const res = await fetch(`${this.endpoints[service]}${path}`, init);
    const text = await res.text();
    if (!res.ok)
      throw new OpenStackApiError(res.status, `${method} ${service}${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async idByName(kind: 'projects' | 'users' | 'roles' | 'services', name: string): Promise<string | undefined> {
    const out = await this.call<Record<string, Array<{ id: string; name: string }>>>(
      'keystone',
      'GET',
      `/v3/${kind}?name=${encodeURIComponent(name)}`,
    );
    return out[kind]?.[0]?.id;
  }

  async ensureProject(name: string): Promise<string> {
    return (
      (await this.idByName('projects', name)) ??
      (
        await this.call<{ project: { id: string } }>('keystone', 'POST', '/v3/projects', {
          project: { name, domain_id: 'default' },
        })
      ).project.id
    );
  }

  async ensureRole(name: string): Promise<string> {
    return (
      (await this.idByName('roles', name)) ??
      (await this.call<{ role: { id: string } }>('keystone', 'POST', '/v3/roles', { role: { name } })).role.id
    );
  }

  async ensureUser(name: string, password: string, projectId?: string): Promise<string> {
    return (
      (await this.idByName('users', name)) ??
      (
        await this.call<{ user: { id: string } }>('keystone', 'POST', '/v3/users', {
          user: { name, password, domain_id: 'default', ...(projectId ? { default_project_id: projectId } : {}) },
        })
      ).user.id
    );
  }

  async grant(projectId: string, userId: string, roleId: string): Promise<void> {
    await this.call('keystone', 'PUT', `/v3/projects/${projectId}/users/${userId}/roles/${roleId}`);
  }
}
