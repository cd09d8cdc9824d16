/**
 * What the gateway scales on: load, memory and disk of the machine, plus values that
 * scripts emit (queue length, jobs done, ...).
 *
 * Custom values: a script writes `name=value` lines to <root>/var/lib/cloudgate/metrics
 * (also in $CLOUDGATE_METRICS_FILE for scripts the agent runs). The agent reads the file
 * at each heartbeat, so it holds the current values, not a log: rewrite it, e.g.
 *
 *     echo "queue_length=$(qstat | wc -l)" > "$CLOUDGATE_METRICS_FILE.tmp" &&
 *       mv "$CLOUDGATE_METRICS_FILE.tmp" "$CLOUDGATE_METRICS_FILE"
 *
 * Names are letters, digits, '_', '.', '-' (up to 64, starting with a letter or '_');
 * values are decimal numbers. Blank lines and lines starting with '#' are skipped; other
 * malformed lines are dropped (and logged once). At most 100 values, 64 KiB of file.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import type { Logger } from 'pino';
import { underRoot } from './context/index.js';

export const METRICS_FILE = '/var/lib/cloudgate/metrics';
const MAX_VALUES = 100;
const MAX_BYTES = 64 * 1024;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

export interface Metrics {
  load1: number;
  mem_used_pct: number;
  disk_used_pct: number;
  custom: Record<string, string>;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function parseCustomMetrics(text: string): { values: Record<string, string>; bad: number[] } {
  const values: Record<string, string> = {};
  const bad: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq < 0 ? '' : line.slice(0, eq).trim();
    const value = eq < 0 ? '' : line.slice(eq + 1).trim();
    if (!NAME.test(name) || !NUMBER.test(value) || !Number.isFinite(Number(value))) {
      bad.push(i + 1);
      return;
    }
    if (Object.keys(values).length >= MAX_VALUES && !(name in values)) {
      bad.push(i + 1);
      return;
    }
    values[name] = value;
  });
  return { values, bad };
}

export function metricsCollector({ root, log }: { root: string; log: Logger }) {
  const file = underRoot(root, METRICS_FILE);
  let warned = '';
  const custom = async (): Promise<Record<string, string>> => {
    let fh;
    try {
      fh = await fs.open(file, 'r');
      const buf = Buffer.alloc(MAX_BYTES);
      const { bytesRead } = await fh.read(buf, 0, MAX_BYTES, 0);
      const { values, bad } = parseCustomMetrics(buf.subarray(0, bytesRead).toString('utf8'));
      const key = bad.join(',');
      if (bad.length && key !== warned)
        log.warn({ file, lines: bad }, 'malformed lines in the metrics file ignored (expected name=number)');
      warned = key;
      return values;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.debug({ err, file }, 'cannot read the metrics file');
      return {};
    } finally {
      await fh?.close();
    }
  };
  const disk = async (): Promise<number> => {
    try {
      const s = await fs.statfs(root);
      // Like df: used over what ordinary users can have (used + available to them).
      const used = s.blocks - s.bfree;
      const total = used + s.bavail;
      return total > 0 ? round((used / total) * 100) : 0;
    } catch {
      return 0;
    }
  };
  return {
    file,
    async collect(): Promise<Metrics> {
      const total = os.totalmem();
      return {
        load1: round(os.loadavg()[0]),
        mem_used_pct: total > 0 ? round(((total - os.freemem()) / total) * 100) : 0,
        disk_used_pct: await disk(),
        custom: await custom(),
      };
    },
  };
}

export type MetricsCollector = ReturnType<typeof metricsCollector>;
