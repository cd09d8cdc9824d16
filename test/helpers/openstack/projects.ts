/** Each test gets its own project and user (and quotas), so no test sees another's servers. */
import { randomBytes } from 'node:crypto';
import type { TestCloud } from './shared.js';

export interface TestProject {
  projectId: string;
  projectName: string;
  userId: string;
  userName: string;
  password: string;
}

export interface NovaQuotas {
  instances?: number;
  cores?: number;
  ram?: number;
}

export async function testProject(cloud: TestCloud, prefix: string, quotas?: NovaQuotas): Promise<TestProject> {
  const a = cloud.admin;
  const tag = randomBytes(4).toString('hex');
  const projectName = `${prefix}-${tag}`;
  const userName = `${prefix}-u-${tag}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const projectId = await a.ensureProject(projectName);
  const userId = await a.ensureUser(userName, password, projectId);
  await a.grant(projectId, userId, await a.ensureRole('member'));
  if (quotas) await a.call('nova', 'PUT', `/os-quota-sets/${projectId}`, { quota_set: quotas });
  return { projectId, projectName, userId, userName, password };
}

/** An application credential of the project's user (Keystone answers its secret only once). */
export async function applicationCredential(cloud: TestCloud, p: TestProject): Promise<{ id: string; secret: string }> {
  // Created with the user's own token: an application credential belongs to its creator.
  const login = await fetch(`${cloud.info.endpoints.keystone}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { id: p.userId, password: p.password } } },
        scope: { project: { id: p.projectId } },
      },
    }),
  });
  await login.arrayBuffer();
  const token = login.headers.get('x-subject-token');
  if (!login.ok || !token) throw new Error(`login of ${p.userName} refused: ${login.status}`);
  const res = await fetch(`${cloud.info.endpoints.keystone}/v3/users/${p.userId}/application_credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: JSON.stringify({ application_credential: { name: `cg-${randomBytes(3).toString('hex')}` } }),
  });
  const body = (await res.json()) as { application_credential?: { id: string; secret: string } };
  if (!res.ok || !body.application_credential) throw new Error(`application credential refused: ${res.status}`);
  return body.application_credential;
}
