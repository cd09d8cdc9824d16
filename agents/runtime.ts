/**
 * Operator commands that belong to the runtime: `cloudgate agent <kind> --config f.ini`
 * and `cloudgate ejabberd start|stop|status|account`.
 */
import { resolve, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { EjabberdServer, EjabberdError } from '../ejabberd/index.js';
import { CloudgateError, iniAccount, stopOnSignals, writeIniPassword, type RunAgent } from '../core/index.js';
import { clusterOptions, clusterPrepareOptions, joinIfAsked, type ClusterCliOptions } from './runtime-cluster.js';

const agentsDir = dirname(fileURLToPath(import.meta.url));

export function knownKinds(): string[] {
  return ['gateway', 'cloud', 'instance'].filter((k) => existsSync(join(agentsDir, k, 'index.js')));
}

/** Prints a typed error for people and exits with a code that means something. */
export function fail(err: unknown): never {
  if (err instanceof CloudgateError) {
    process.stderr.write(`cloudgate: ${err.message}\n`);
    process.exit(err.code === 'CG_CONFIG' ? 2 : 1);
  }
  process.stderr.write(`cloudgate: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

export function registerCoreCommands(program: Command): void {
  program
    .command('agent')
    .description('run an agent (gateway, cloud, instance) from its INI configuration')
    .argument('<kind>', 'agent kind')
    .requiredOption('-c, --config <file>', 'INI configuration file')
    .action(async (kind: string, o: { config: string }) => {
      const kinds = knownKinds();
      if (!kinds.includes(kind))
        fail(new CloudgateError('CG_USAGE', `unknown agent kind '${kind}' (known: ${kinds.join(', ')})`));
      try {
        const mod = (await import(join(agentsDir, kind, 'index.js'))) as { run: RunAgent };
        const running = await mod.run(resolve(o.config));
        stopOnSignals(running);
      } catch (err) {
        fail(err);
      }
    });

  const ej = program.command('ejabberd').description('a project-local ejabberd (own config, spool, logs and ports)');
  const dirOpt = ['-d, --dir <dir>', 'server directory', 'var/ejabberd'] as const;
  clusterOptions(ej.command('start'))
    .option(...dirOpt)
    .option('--host <domain>', 'XMPP domain', 'localhost')
    .option('--c2s-port <port>', 'client port', '15222')
    .option('--component-port <port>', 'external component port', '15347')
    .option('--component <domain=secret...>', 'external component(s) to accept')
    .option(
      '--jwt-host <domain...>',
      "extra XMPP host(s) with their own JWT key (a cloud agent's instances, paired machines)",
    )
    .option(
      '--agent <jid...>',
      'gateway and cloud agent JIDs (or a host for all its accounts): they alone create PubSub nodes and are not shaped',
    )
    .action(
      async (
        o: {
          dir: string;
          host: string;
          c2sPort: string;
          componentPort: string;
          component?: string[];
          jwtHost?: string[];
          agent?: string[];
        } & ClusterCliOptions,
      ) => {
        try {
          const { join: joinNode, ...cluster } = clusterPrepareOptions(o);
          const components = (o.component ?? []).map((c) => {
            const [domain, secret] = c.split('=');
            if (!domain || !secret)
              throw new CloudgateError('CG_USAGE', `--component expects domain=secret, got '${c}'`);
            return { domain, secret };
          });
          const dir = resolve(o.dir);
          if (existsSync(join(dir, 'server.json'))) {
            const s = EjabberdServer.load(dir);
            if ((await s.status()).running) {
              console.log(`ejabberd already running in ${dir} (c2s ${s.info.c2sPort})`);
              return;
            }
          }
          const extraHosts = (o.jwtHost ?? []).map((name) => {
            if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(name) || name === o.host)
              throw new CloudgateError(
                'CG_USAGE',
                `--jwt-host expects a domain other than the main host ${o.host}, got '${name}'`,
              );
            return { name, ownJwtKey: true };
          });
          const s = await EjabberdServer.prepare({
            dir,
            host: o.host,
            c2sPort: Number(o.c2sPort),
            componentPort: Number(o.componentPort),
            components,
            extraHosts,
            agents: o.agent,
            ...cluster,
          });
          await s.start({ detached: true });
          const clusterLine = await joinIfAsked(s, joinNode);
          const keys = Object.entries(s.info.hostJwtKeyFiles)
            .map(([h, f]) => `, ${h} JWT key ${f}`)
            .join('');
          console.log(
            `ejabberd started in ${dir}: c2s ${s.info.ip}:${s.info.c2sPort}, components ${s.info.componentPort}, CA ${s.info.certFile}${keys}, agents (create PubSub nodes, unshaped) ${o.agent?.join(' ') || 'none: name them with --agent'}${clusterLine}`,
          );
          console.log(
            `${o.host} takes passwords only: give each agent its account with 'cloudgate ejabberd account --config <its ini>'`,
          );
          process.exit(0);
        } catch (err) {
          fail(err);
        }
      },
    );
  ej.command('account')
    .description(
      "registers the [xmpp] jid of an agent's or client's INI file with a new random password, written only into that file (made private); an existing account gets the new password",
    )
    .option(...dirOpt)
    .requiredOption('-c, --config <file>', 'INI file whose [xmpp] jid names the account')
    .action(async (o: { dir: string; config: string }) => {
      try {
        const file = resolve(o.config);
        const { user, domain } = iniAccount(file);
        const s = EjabberdServer.load(o.dir);
        if (!s.info.hosts.includes(domain))
          throw new CloudgateError(
            'CG_USAGE',
            `${file} [xmpp] jid: ${domain} is not a host of the server in ${s.dir} (hosts: ${s.info.hosts.join(', ')})`,
          );
        const password = randomBytes(18).toString('base64url');
        await s.account(user, domain, password);
        writeIniPassword(file, password);
        console.log(`account ${user}@${domain} ready; its password is in ${file}`);
        process.exit(0);
      } catch (err) {
        fail(err);
      }
    });
  ej.command('stop')
    .option(...dirOpt)
    .action(async (o: { dir: string }) => {
      try {
        await EjabberdServer.load(o.dir).stop();
        console.log('ejabberd stopped');
      } catch (err) {
        fail(err);
      }
    });
  ej.command('status')
    .option(...dirOpt)
    .action(async (o: { dir: string }) => {
      try {
        const s = EjabberdServer.load(o.dir);
        const st = await s.status();
        console.log(
          JSON.stringify({
            ...st,
            dir: s.dir,
            c2sPort: s.info.c2sPort,
            componentPort: s.info.componentPort,
            host: s.info.host,
            ...(s.info.cluster && st.running
              ? { node: s.info.node, cluster: await s.clusterNodes().catch(() => []) }
              : {}),
          }),
        );
        process.exit(st.running ? 0 : 3);
      } catch (err) {
        fail(err instanceof EjabberdError ? err : err);
      }
    });
}
