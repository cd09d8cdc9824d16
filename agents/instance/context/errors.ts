import { CloudgateError } from '../../../core/index.js';

/**
 * Stable codes so the instance agent (and the gateway reading its reports) branch on the
 * kind of problem, never on message text.
 */
export type ContextErrorCode =
  | 'CG_CONTEXT_SYNTAX' // a line is not INI: bad header, key without '=', stray continuation
  | 'CG_CONTEXT_DUPLICATE' // a key or section appears twice
  | 'CG_CONTEXT_INVALID' // well-formed INI, but a value is wrong ([cloudgate], plugins=)
  | 'CG_CONTEXT_PLUGIN_LOAD' // an operator plugin module could not be loaded or is malformed
  | 'CG_CONTEXT_PLUGIN_CONFLICT' // two plugins claim the same name
  | 'CG_CONTEXT_DECODE' // user-data looked gzipped/base64 but did not decode
  | 'CG_CONTEXT_NOT_FOUND'; // no source held a context

/** Where in the document a problem is; any part may be unknown. */
export interface ContextLocation {
  line?: number;
  section?: string;
  key?: string;
}

export function formatLocation(where: ContextLocation): string {
  const parts: string[] = [];
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.section !== undefined) parts.push(`[${where.section}]`);
  if (where.key !== undefined) parts.push(`key "${where.key}"`);
  return parts.join(' ');
}

/** A context could not be found, decoded, parsed or trusted. The message names line, section and key. */
export class ContextError extends CloudgateError {
  readonly line?: number;
  readonly section?: string;
  readonly key?: string;
  /** The message without the location prefix, for callers that print the location themselves. */
  readonly reason: string;

  constructor(code: ContextErrorCode, reason: string, where: ContextLocation = {}, options?: ErrorOptions) {
    const at = formatLocation(where);
    super(code, at ? `${at}: ${reason}` : reason, options);
    this.reason = reason;
    this.line = where.line;
    this.section = where.section;
    this.key = where.key;
  }
}

/** One source findContext() looked at and why it gave nothing. */
export interface SourceAttempt {
  source: 'file' | 'metadata' | 'config-drive';
  location: string;
  reason: string;
}

/** Every source was tried; `attempts` says what each one answered, in order. */
export class ContextNotFoundError extends ContextError {
  constructor(readonly attempts: readonly SourceAttempt[]) {
    const list = attempts.map((a) => `  - ${a.source} ${a.location}: ${a.reason}`).join('\n');
    super('CG_CONTEXT_NOT_FOUND', `no context found; tried:\n${list}`);
  }
}
