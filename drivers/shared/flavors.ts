/** Generic flavors and the `flavor.<id> = <cores> <memory_mb>` option format. */
import type { Flavor } from './types.js';
import type { OptionReader } from './options.js';

export const DEFAULT_FLAVORS: readonly Flavor[] = Object.freeze([
  { id: 'small', name: 'small', cores: 1, memoryMb: 512 },
  { id: 'medium', name: 'medium', cores: 2, memoryMb: 2048 },
  { id: 'large', name: 'large', cores: 4, memoryMb: 8192 },
]);

/**
 * Any `flavor.<id> = <cores> <memory_mb>` key replaces the whole default set: the operator
 * lists exactly what this cloud offers, so a flavor can also be taken away.
 */
export function readFlavors(r: OptionReader): Flavor[] {
  const entries = r.prefixed('flavor');
  if (entries.size === 0) return DEFAULT_FLAVORS.map((f) => ({ ...f }));
  return [...entries].map(([id, value]) => {
    const m = /^(\d+)\s+(\d+)$/.exec(value);
    const cores = Number(m?.[1]);
    const memoryMb = Number(m?.[2]);
    if (!m || cores < 1 || memoryMb < 1) r.invalid(`flavor.${id}`, `must be "<cores> <memory_mb>", got "${value}"`);
    return { id, name: id, cores, memoryMb };
  });
}
