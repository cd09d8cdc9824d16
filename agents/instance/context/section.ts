/** A parsed section: key -> value, in document order. Kept apart so parse.ts and cloudgate.ts need not import each other. */
export type Section = ReadonlyMap<string, string>;

/** Line numbers (1-based) of a section header and of each of its keys, for error messages. */
export interface SectionPosition {
  line: number;
  keys: ReadonlyMap<string, number>;
}

/** A value as plain text: without the empty first line that `key =` + continuation lines leave. */
export function textValue(value: string): string {
  return value.startsWith('\n') ? value.slice(1) : value;
}
