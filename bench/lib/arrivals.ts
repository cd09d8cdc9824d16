/**
 * Distinct things arriving over time (instances reported running, events seen): each key
 * is counted once, with the time it first arrived; `all(n)` waits for n of them and fails
 * when none new came for `stallMs`, so a lost report ends a run with a clear error rather
 * than at the overall deadline.
 */
import { unlessAborted } from './outcome.js';

export class Arrivals {
  /** Key → performance.now() of its first arrival. */
  readonly at = new Map<string, number>();
  private lastAt = Date.now();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly what: string) {}

  get count(): number {
    return this.at.size;
  }

  add(key: string): void {
    if (this.at.has(key)) return;
    this.at.set(key, performance.now());
    this.lastAt = Date.now();
    for (const l of this.listeners) l();
  }

  /** performance.now() of the n-th arrival (the latest, once n have arrived). */
  async all(n: number, stallMs: number, signal: AbortSignal): Promise<number> {
    let onChange!: () => void;
    let timer: NodeJS.Timeout | undefined;
    const since = Date.now();
    try {
      return await unlessAborted(
        new Promise<number>((resolve, reject) => {
          onChange = () => {
            if (this.count >= n) resolve(Math.max(...this.at.values()));
          };
          this.listeners.add(onChange);
          onChange();
          timer = setInterval(
            () => {
              if (Date.now() - Math.max(this.lastAt, since) > stallMs)
                reject(new Error(`${this.what}: ${this.count} of ${n}, none more for ${stallMs / 1000} s`));
            },
            Math.min(250, stallMs),
          );
        }),
        signal,
      );
    } finally {
      this.listeners.delete(onChange);
      clearInterval(timer);
    }
  }
}
