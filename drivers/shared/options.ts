/**
 * Reads a driver's INI section. The `ini` package leaves every value a string, so each
 * option is converted here once, at start-up, and a bad value fails fast with a message
 * naming the key (the caller adds file and section). Secret keys are never echoed.
 */
import { ConfigError } from '../../core/index.js';

export class OptionReader {
  constructor(
    private readonly opts: Readonly<Record<string, string>>,
    private readonly driver: string,
  ) {}

  private fail(key: string, why: string): never {
    throw new ConfigError(`${this.driver} driver: option "${key}" ${why}`);
  }

  private raw(key: string): string | undefined {
    const v = this.opts[key];
    if (v === undefined) return undefined;
    const t = String(v).trim();
    return t === '' ? undefined : t;
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  required(key: string): string {
    return this.raw(key) ?? this.fail(key, 'is required');
  }

  string(key: string): string | undefined;
  string(key: string, fallback: string): string;
  string(key: string, fallback?: string): string | undefined {
    return this.raw(key) ?? fallback;
  }

  /** A secret: its value is never part of any message, only its presence is checked. */
  secret(key: string): string | undefined {
    const v = this.opts[key];
    return v === undefined || v === '' ? undefined : String(v);
  }

  int(key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) this.fail(key, `must be a whole number, got "${v}"`);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      this.fail(key, `must be a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    this.fail(key, `must be true or false, got "${v}"`);
  }

  /** Space- or comma-separated words. */
  list(key: string, fallback: readonly string[] = []): string[] {
    const v = this.raw(key);
    return v === undefined ? [...fallback] : v.split(/[\s,]+/).filter(Boolean);
  }

  /**
   * Keys of the form `<prefix>.<id> = value` (e.g. `image.cernvm-4 = /path`), one entry per
   * INI line so that values may contain spaces. Returns id → trimmed value.
   */
  prefixed(prefix: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(this.opts)) {
      if (!k.startsWith(`${prefix}.`)) continue;
      const id = k.slice(prefix.length + 1);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) this.fail(k, 'has an invalid id after the dot');
      const value = String(v).trim();
      if (value === '') this.fail(k, 'is empty');
      out.set(id, value);
    }
    return out;
  }

  /** Throws the same way the getters do, for checks that need more than one key. */
  invalid(key: string, why: string): never {
    this.fail(key, why);
  }
}
