/**
 * What the gateway's chat commands (chat.ts, market-chat.ts) read from their arguments,
 * refused the same way in each: a missing name, or a flag given without its value.
 */
import { ChatError, type ChatArgs } from '../../core/index.js';

/** The first argument, naming `what` ('a deployment', 'an entry'): required. */
export function named(a: ChatArgs, what: string): string {
  const id = a.positional[0];
  if (!id) throw new ChatError(`name ${what}`);
  return id;
}

/** A `--flag value` flag's value (undefined when absent); `--flag` alone is refused. */
export function flagValue(v: string | true | undefined, flag: string): string | undefined {
  if (v === true) throw new ChatError(`--${flag} needs a value`);
  return v;
}
