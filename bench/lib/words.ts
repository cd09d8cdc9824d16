/**
 * Flags whose values are words (`deploy --driver libvirt`). The benchmark contract
 * (bench/lib.ts) passes numbers only, so a benchmark lists each word flag's choices in
 * `words`, and the word becomes its index in that list before the numeric flags are
 * parsed: `--driver libvirt` with choices [local, libvirt] reaches run() as driver = 1.
 */
export interface WordFlags {
  words?: Record<string, readonly string[]>;
}

export function wordsToIndexes(bench: WordFlags, args: readonly string[]): string[] {
  const words = bench.words ?? {};
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(args[i]!);
    const choices = m ? words[m[1]!] : undefined;
    if (!m || !choices) {
      out.push(args[i]!);
      continue;
    }
    const v = m[2] ?? args[++i];
    const n = v === undefined ? -1 : choices.indexOf(v);
    if (n < 0) throw new Error(`--${m[1]} must be one of ${choices.join(', ')}, got '${v ?? ''}'`);
    out.push(`--${m[1]}`, String(n));
  }
  return out;
}

/** The word a run() received as an index, or `fallback` when the flag was not given. */
export function wordOf<T extends string>(choices: readonly T[], index: number | undefined, fallback: T): T {
  return index === undefined ? fallback : (choices[index] ?? fallback);
}
