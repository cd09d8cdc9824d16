/**
 * Deployment progress for people. On a terminal: one bar per service, redrawn in place,
 * with events scrolling above it. Elsewhere (a pipe, a log file): one line per change,
 * e.g. `[  12.4s] worker 2/3 ready`, so logs stay readable and greppable.
 */
import type { DeploymentEventView, DeploymentView } from '../client.js';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** Redraw in place (default: the stream is a terminal). */
  tty?: boolean;
  /** Elapsed time counts from here (ms since the epoch). */
  start?: number;
  /** Show event messages (default true). */
  events?: boolean;
}

export interface Progress {
  view(d: DeploymentView): void;
  event(e: DeploymentEventView): void;
  /** Leaves the last drawing on screen and stops redrawing. */
  end(): void;
}

const BAR = 24;

export function elapsed(start: number, now = Date.now()): string {
  return `${((now - start) / 1000).toFixed(1).padStart(6)}s`;
}

export function bar(ready: number, wanted: number, width = BAR): string {
  const filled = wanted <= 0 ? width : Math.min(width, Math.round((ready / wanted) * width));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export function createProgress(o: ProgressOptions = {}): Progress {
  const stream = o.stream ?? process.stderr;
  const tty = o.tty ?? !!stream.isTTY;
  const start = o.start ?? Date.now();
  const showEvents = o.events ?? true;
  let drawn = 0;
  let last: DeploymentView | undefined;
  let ended = false;
  const seen = new Map<string, string>();

  const block = (d: DeploymentView): string[] => {
    const w = Math.max(...d.services.map((s) => s.name.length), 4);
    return [
      `deployment ${d.id} (${d.cluster}): ${d.state}  ${elapsed(start).trim()}`,
      ...d.services.map(
        (s) =>
          `  ${s.name.padEnd(w)} ${bar(s.ready, s.wanted)} ${s.ready}/${s.wanted} ready${s.type === 'fixed' ? ' (fixed)' : ''}`,
      ),
    ];
  };
  const clip = (line: string) =>
    stream.columns && line.length >= stream.columns ? line.slice(0, stream.columns - 1) : line;
  const erase = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    if (!last || ended) return;
    const lines = block(last).map(clip);
    stream.write(lines.join('\n') + '\n');
    drawn = lines.length;
  };
  // Redraw once a second so the elapsed time moves while nothing else does.
  const ticker = tty
    ? setInterval(() => {
        erase();
        draw();
      }, 1000)
    : undefined;
  ticker?.unref();

  return {
    view(d) {
      if (ended) return;
      if (tty) {
        last = d;
        erase();
        draw();
        return;
      }
      const prev = last;
      last = d;
      if (!prev || prev.state !== d.state)
        stream.write(`[${elapsed(start)}] deployment ${d.id} (${d.cluster}) ${d.state}\n`);
      for (const s of d.services) {
        const now = `${s.ready}/${s.wanted}`;
        if (seen.get(s.name) === now) continue;
        seen.set(s.name, now);
        stream.write(`[${elapsed(start)}] ${s.name} ${now} ready\n`);
      }
    },
    event(e) {
      if (ended || !showEvents) return;
      const line = `[${elapsed(start)}] ${e.type}: ${e.message}`;
      if (tty) {
        erase();
        stream.write(clip(line) + '\n');
        draw();
      } else stream.write(line + '\n');
    },
    end() {
      if (ticker) clearInterval(ticker);
      if (tty && !ended) {
        erase();
        draw();
      }
      ended = true;
    },
  };
}
