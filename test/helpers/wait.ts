/** Polling for tests. */

/** Polls `check` until it returns a truthy value or `ms` pass (then fails naming `what`). */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 20_000,
  every = 50,
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as Exclude<T, undefined | null | false | 0 | ''>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, every));
  }
}
