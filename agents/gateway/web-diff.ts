/**
 * A plain line diff for showing two context versions side by side: the longest common
 * subsequence of lines stays unmarked, the rest is marked as only-left or only-right.
 * Above `limit` line pairs (a quadratic table) lines are compared by position instead,
 * so a huge context cannot make a page expensive.
 */
export interface DiffLine {
  readonly text: string;
  /** Not in the other version (at this place). */
  readonly changed: boolean;
}

export function lineDiff(
  left: readonly string[],
  right: readonly string[],
  limit = 4_000_000,
): { left: DiffLine[]; right: DiffLine[] } {
  const n = left.length;
  const m = right.length;
  if (n * m > limit)
    return {
      left: left.map((text, i) => ({ text, changed: right[i] !== text })),
      right: right.map((text, i) => ({ text, changed: left[i] !== text })),
    };
  // lcs[i][j]: length of the longest common subsequence of left[i..] and right[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = left[i] === right[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const keepLeft = new Set<number>();
  const keepRight = new Set<number>();
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (left[i] === right[j]) {
      keepLeft.add(i++);
      keepRight.add(j++);
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  return {
    left: left.map((text, i) => ({ text, changed: !keepLeft.has(i) })),
    right: right.map((text, j) => ({ text, changed: !keepRight.has(j) })),
  };
}
