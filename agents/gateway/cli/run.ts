/**
 * What every client command shares: connection flags, connecting, printing the result
 * (text for people, exactly one JSON document on stdout with --json), and an exit code
 * that means something (see EXIT_CODES_HELP).
 */
import type { Command } from 'commander';
import { createLogger } from '../../../core/index.js';
import {
  GatewayClient,
  resolveClientOptions,
  exitCodeFor,
  describeError,
  errorJson,
  EXIT,
  CLIENT_ENV,
  UsageError,
  type ClientFlags,
} from '../client.js';

export interface CommonOpts extends ClientFlags {
  json?: boolean;
  connectTimeout?: string;
}

/** What a command produced: a JSON value for scripts, text for people, and its exit code. */
export interface Outcome {
  json: unknown;
  text?: string;
  exit?: number;
  message?: string;
}

export function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'client INI file ([xmpp] and [gateway] sections)')
    .option('--server <host:port>', 'XMPP server')
    .option('--jid <jid>', 'your JID (user@domain)')
    .option('--jwt-key <file>', 'JWK file to mint your own login token')
    .option('--ca <file>', 'CA certificate (PEM) of the server')
    .option('--gateway <jid>', 'gateway JID (default gateway@<your domain>)')
    .option('--connect-timeout <seconds>', 'give up finding the gateway after this long', '10')
    .option('--json', 'print one JSON document on stdout and nothing else');
}

export const CONNECTION_HELP = `Connection: flags, else environment, else the client INI file.
${Object.entries(CLIENT_ENV)
  .map(([k, v]) => `  ${k.padEnd(20)} ${v}`)
  .join('\n')}
Client INI file (the agents' [xmpp] section):
  [xmpp]
  jid = ada@example.org
  server = xmpp.example.org:5222
  password = ...            ; or token = ..., or jwt_key = /path/host.jwk
  ca = /path/ca.pem
  [gateway]
  jid = gateway@example.org`;

export function seconds(v: string | undefined, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what}: expected a positive number of seconds, got '${v}'`);
  return n * 1000;
}

function finish(o: CommonOpts, r: Outcome): never {
  if (o.json) process.stdout.write(JSON.stringify(r.json, null, 2) + '\n');
  else if (r.text !== undefined && r.text !== '') process.stdout.write(r.text + '\n');
  if (r.message) process.stderr.write(`cloudgate: ${r.message}\n`);
  process.exit(r.exit ?? EXIT.ok);
}

export function fail(o: CommonOpts, err: unknown): never {
  const exit = exitCodeFor(err);
  if (o.json) process.stdout.write(JSON.stringify(errorJson(err), null, 2) + '\n');
  process.stderr.write(`cloudgate: ${describeError(err)}\n`);
  if (exit === EXIT.failed && !(err as { code?: string })?.code && err instanceof Error && err.stack)
    process.stderr.write(`${err.stack}\n`);
  process.exit(exit);
}

/** Connects, runs `fn`, prints its outcome and exits. */
export async function withClient(o: CommonOpts, fn: (gw: GatewayClient) => Promise<Outcome>): Promise<never> {
  let gw: GatewayClient | undefined;
  let outcome: Outcome;
  try {
    const opts = resolveClientOptions(o);
    gw = await GatewayClient.connect({
      ...opts,
      gatewayTimeoutMs: seconds(o.connectTimeout, '--connect-timeout', 10_000),
      log: createLogger({ level: process.env.CLOUDGATE_LOG_LEVEL ?? 'error' }),
    });
    outcome = await fn(gw);
  } catch (err) {
    await gw?.close().catch(() => {});
    fail(o, err);
  }
  await gw.close().catch(() => {});
  finish(o, outcome);
}
