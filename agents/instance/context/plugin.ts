/**
 * The plugin contract, shared by built-ins and operator plugins (loaded from pluginDirs).
 * Results are plain JSON: they travel to the gateway inside stanzas.
 */
import type { Logger } from 'pino';
import type { Context, Section } from './parse.js';

/**
 * - ok: applied (changed says whether anything on the system changed)
 * - data-error: the section's data is wrong; nothing of this plugin was applied
 * - failed: applying went wrong (a script exited non-zero, a download failed, ...)
 * - disabled: not applied, `message` says why: section not listed in plugins=, context
 *   rejected by validation, or an earlier plugin failed ("not applied: ...")
 * - unchanged: section identical to the one recorded as applied; skipped
 */
export type PluginStatus = 'ok' | 'data-error' | 'failed' | 'disabled' | 'unchanged';

/**
 * Plugins run in three phases: every `before` step, then every `main` step, then every
 * `after` step, each phase in plugins= order. Only `scripts` uses before/after today.
 */
export type Phase = 'before' | 'main' | 'after';
export const PHASES: readonly Phase[] = ['before', 'main', 'after'];

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface PluginResult {
  plugin: string;
  /** Present for before/after steps only. */
  phase?: 'before' | 'after';
  status: PluginStatus;
  message?: string;
  changed?: boolean;
  detail?: { [k: string]: Json };
}

/** One thing wrong with a section; `key` lets the engine add its line number. */
export interface Problem {
  key?: string;
  message: string;
}

export interface ValidateContext {
  readonly root: string;
  readonly context: Context;
}

export interface PluginContext {
  /** Every change goes under this directory; '/' means the real system. */
  readonly root: string;
  readonly log: Logger;
  readonly context: Context;
  readonly phase: Phase;
  readonly version: number | null;
  /** Variables from [environment] (when that plugin is enabled), for scripts and commands. */
  readonly env: Readonly<Record<string, string>>;
  readonly fetchTimeoutMs: number;
  readonly scriptTimeoutMs: number;
  /** Absolute path of `p` (an absolute path on the target system) under root; throws if it escapes root. */
  path(p: string): string;
}

/** What apply() returns; the engine adds the plugin name and phase. Returning nothing means ok. */
export interface PluginOutcome {
  status?: 'ok' | 'failed' | 'data-error';
  message?: string;
  changed?: boolean;
  detail?: { [k: string]: Json };
}

export interface Plugin {
  readonly name: string;
  /** Defaults to ['main']. */
  readonly phases?: readonly Phase[];
  /** Return (or throw) problems; the whole context is rejected if any plugin reports one. */
  validate?(section: Section, ctx: ValidateContext): Problem[] | string[] | void | Promise<Problem[] | string[] | void>;
  apply(section: Section, ctx: PluginContext): PluginOutcome | void | Promise<PluginOutcome | void>;
  /**
   * What decides re-application on re-contextualization; defaults to the whole section.
   * `scripts` narrows it to the text of the script of that phase.
   */
  fingerprint?(section: Section, phase: Phase, context: Context): Json;
}
