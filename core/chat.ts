/**
 * Chat commands for people in any XMPP client: `<message type="chat">` bodies such as
 * `deploy mycluster --n 3` are split like a shell line, routed to a command, checked
 * against the command's permission, and answered in plain text. `help` is generated
 * from the commands the sender may run.
 */
import type { Logger } from 'pino';

export interface ChatArgs {
  positional: string[];
  flags: Record<string, string | true>;
  raw: string;
}

export interface ChatContext {
  from: string;
  bare: string;
  /** Sends an extra chat line to the sender (progress while a command runs). */
  reply(text: string): Promise<void>;
  log: Logger;
}

export interface ChatCommand {
  name: string;
  usage: string;
  summary: string;
  /**
   * Who may run it. Every command must say (`() => true` for anyone who may talk to the
   * agent); one that does not is refused to everyone, so a forgotten check denies.
   */
  allow: (bare: string) => boolean | Promise<boolean>;
  run(args: ChatArgs, ctx: ChatContext): Promise<string | void> | string | void;
}

export class ChatError extends Error {}

/** Splits a command line like a shell: quotes group words, backslash escapes. */
export function splitLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let had = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      had = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      had = true;
    } else if (/\s/.test(ch)) {
      if (cur || had) out.push(cur);
      cur = '';
      had = false;
    } else cur += ch;
  }
  if (quote) throw new ChatError(`unbalanced ${quote} quote`);
  if (cur || had) out.push(cur);
  return out;
}

export function parseArgs(words: string[], raw = words.join(' ')): ChatArgs {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=');
      if (eq > 0) flags[w.slice(2, eq)] = w.slice(eq + 1);
      else if (i + 1 < words.length && !words[i + 1].startsWith('--')) flags[w.slice(2)] = words[++i];
      else flags[w.slice(2)] = true;
    } else positional.push(w);
  }
  return { positional, flags, raw };
}

export class ChatRouter {
  private commands = new Map<string, ChatCommand>();

  constructor(private readonly intro = 'cloudgate agent') {
    this.add({
      name: 'help',
      usage: 'help [command]',
      summary: 'list the commands you may run',
      allow: () => true,
      run: async (args, ctx) => this.help(ctx.bare, args.positional[0]),
    });
  }

  add(cmd: ChatCommand): void {
    if (this.commands.has(cmd.name) && cmd.name !== 'help') throw new Error(`chat command ${cmd.name} exists already`);
    this.commands.set(cmd.name, cmd);
  }

  private async allowed(cmd: ChatCommand, bare: string): Promise<boolean> {
    return typeof cmd.allow === 'function' ? !!(await cmd.allow(bare)) : false;
  }

  async help(bare: string, name?: string): Promise<string> {
    if (name) {
      const c = this.commands.get(name);
      if (!c || !(await this.allowed(c, bare))) return `No command '${name}'. Type 'help' for the list.`;
      return `${c.usage}\n  ${c.summary}`;
    }
    const lines = [`${this.intro}: commands you may run`];
    for (const c of this.commands.values())
      if (await this.allowed(c, bare)) lines.push(`  ${c.usage.padEnd(36)} ${c.summary}`);
    return lines.join('\n');
  }

  /** Runs a chat line; always resolves with the reply text. */
  async dispatch(body: string, ctx: ChatContext): Promise<string> {
    let words: string[];
    try {
      words = splitLine(body.trim());
    } catch (err) {
      return `Could not read that: ${(err as Error).message}.`;
    }
    if (words.length === 0) return `Type 'help' for the commands.`;
    const [name, ...rest] = words;
    const cmd = this.commands.get(name.toLowerCase());
    if (!cmd) return `Unknown command '${name}'. Type 'help' for the commands.`;
    if (!(await this.allowed(cmd, ctx.bare))) return `You (${ctx.bare}) are not allowed to run '${cmd.name}'.`;
    try {
      const out = await cmd.run(parseArgs(rest, body), ctx);
      return out ?? 'OK';
    } catch (err) {
      if (err instanceof ChatError) return `${cmd.name}: ${err.message}\nUsage: ${cmd.usage}`;
      const e = err as { message?: string; code?: string };
      if (e?.code && e.code !== 'ERR') {
        // Typed errors (quota, ACL, validation) are meant for the user.
        return `${cmd.name} failed: ${e.message}`;
      }
      ctx.log.error({ err, command: cmd.name }, 'chat command failed');
      return `${cmd.name} failed: internal error (logged).`;
    }
  }
}
