import type { Logger } from 'pino';

/**
 * Logs a repeated problem once per key, then every `every`-th time with a count: a
 * flood of bad stanzas from one sender must not become a flood of log lines.
 */
export function onceLogger(log: Logger, every = 1000, maxKeys = 10000) {
  const counts = new Map<string, number>();
  return (key: string, obj: Record<string, unknown>, msg: string) => {
    const n = (counts.get(key) ?? 0) + 1;
    if (counts.size >= maxKeys && !counts.has(key)) counts.clear();
    counts.set(key, n);
    if (n === 1 || n % every === 0) log.warn({ ...obj, occurrences: n }, msg);
  };
}
