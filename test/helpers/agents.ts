/** Agents for tests: JWT logins minted from the test server's key, silent logs. */
import { Agent, type AgentOptions, createLogger, loadJwtKey, mintToken, type Db } from '../../core/index.js';
import type { TestServer } from './ejabberd.js';

export const silent = createLogger({ level: process.env.TEST_LOG ?? 'silent' });

export async function tokenFor(t: TestServer, user: string, ttl = 3600): Promise<string> {
  const key = await loadJwtKey(t.server.info.jwtKeyFile);
  return (await mintToken(key, `${user}@${t.host}`, ttl)).token;
}

export async function makeAgent(
  t: TestServer,
  user: string,
  o: Partial<AgentOptions> & { db?: Db; resource?: string } = {},
): Promise<Agent> {
  return new Agent({
    kind: o.kind ?? 'test',
    log: o.log ?? silent,
    ...o,
    xmpp: {
      service: t.service,
      domain: t.host,
      username: user,
      password: await tokenFor(t, user),
      isToken: true,
      ca: t.ca,
      resource: o.resource ?? 'agent',
      maxStartAttempts: 3,
      ...o.xmpp,
    },
  });
}
