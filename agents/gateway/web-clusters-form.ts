/**
 * The cluster definition form as data: what a stored definition fills in, what a posted
 * form says, the INI text it becomes (the same file `cloudgate cluster put` reads, stored
 * through the same use case), and each problem of that INI put back next to its field.
 *
 * Service rows are posted as `s<i>.<field>`; a row left empty or marked `remove` is
 * dropped, so the form works without a script: N rows, plus a submit that adds one.
 */
import type { ConfigIssue } from '../../core/index.js';
import type { ClusterRecord, ServiceDef } from './model/index.js';

export const SERVICE_FIELDS = [
  'name',
  'type',
  'order',
  'count',
  'min',
  'initial',
  'max',
  'depends',
  'flavor',
  'image',
  'context',
  'context_version',
  'clouds',
] as const;
export type ServiceField = (typeof SERVICE_FIELDS)[number];
export type ServiceRow = Record<ServiceField, string>;

export interface ClusterForm {
  name: string;
  description: string;
  /** The stored definition this form edits (its name before any rename), '' for a new one. */
  original: string;
  rows: ServiceRow[];
}

/** Problems by field: `name`/`description` for the cluster, `s<i>.<field>` for a row, `''` for the rest. */
export type FieldErrors = Map<string, string[]>;

export const MAX_ROWS = 50;

export const emptyRow = (): ServiceRow =>
  Object.fromEntries(SERVICE_FIELDS.map((f) => [f, f === 'type' ? 'fixed' : ''])) as ServiceRow;

const flavorText = (s: ServiceDef) =>
  s.flavor.type === 'generic' ? s.flavor.name : `cores:${s.flavor.cores},memory:${s.flavor.memoryMb}`;

export function formOf(rec: ClusterRecord): ClusterForm {
  const rows = rec.definition.services.map((s): ServiceRow => {
    const row = emptyRow();
    row.name = s.name;
    row.type = s.type;
    if (s.type === 'fixed') {
      row.order = String(s.order);
      row.count = String(s.count);
    } else {
      row.min = String(s.min);
      row.initial = String(s.initial);
      row.max = String(s.max);
    }
    row.depends = s.depends.join(' ');
    row.flavor = flavorText(s);
    row.image = s.image;
    row.context = s.context?.ref ?? '';
    row.context_version = s.context?.version !== undefined ? String(s.context.version) : '';
    row.clouds = s.clouds.join(' ');
    return row;
  });
  return { name: rec.name, description: rec.definition.description ?? '', original: rec.name, rows };
}

/** The form as posted: its rows in index order, empty and removed ones dropped. */
export function formFromPost(f: Record<string, unknown>): ClusterForm {
  const text = (k: string) => (typeof f[k] === 'string' ? (f[k] as string).trim() : '');
  const indices = new Set<number>();
  for (const k of Object.keys(f)) {
    const m = /^s(\d{1,3})\.[a-z_]+$/.exec(k);
    if (m && Number(m[1]) < MAX_ROWS) indices.add(Number(m[1]));
  }
  const rows: ServiceRow[] = [];
  for (const i of [...indices].sort((a, b) => a - b)) {
    if (text(`s${i}.remove`)) continue;
    const row = emptyRow();
    for (const k of SERVICE_FIELDS) row[k] = text(`s${i}.${k}`);
    if (row.type !== 'scalable') row.type = 'fixed';
    const filled = SERVICE_FIELDS.some((k) => k !== 'type' && row[k] !== '');
    if (filled) rows.push(row);
  }
  return { name: text('name'), description: text('description'), original: text('original'), rows };
}

const add = (errors: FieldErrors, key: string, message: string) =>
  errors.set(key, [...(errors.get(key) ?? []), message]);

/**
 * The INI of a form, or the problems that keep it from being one (a value that would
 * break the file's lines). `keep` is appended as it is: sections the form does not edit.
 */
export function toIni(form: ClusterForm, keep = ''): { ini: string; errors: FieldErrors } {
  const errors: FieldErrors = new Map();
  // A line break (or any control character) in a value would write a line of its own.
  const clean = (key: string, v: string) => {
    if ([...v].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127))
      add(errors, key, 'must be on one line, without control characters');
    return v;
  };
  const out = ['[cluster]', `name = ${clean('name', form.name)}`];
  if (form.description) out.push(`description = ${clean('description', form.description)}`);
  if (form.rows.length === 0) add(errors, '', 'add at least one service');
  form.rows.forEach((row, i) => {
    if (!row.name) add(errors, `s${i}.name`, 'give the service a name');
    out.push('', `[service.${clean(`s${i}.name`, row.name)}]`, `type = ${row.type}`);
    for (const k of SERVICE_FIELDS) {
      if (k === 'name' || k === 'type' || row[k] === '') continue;
      out.push(`${k} = ${clean(`s${i}.${k}`, row[k])}`);
    }
  });
  const ini = `${out.join('\n')}\n${keep ? `\n${keep.trim()}\n` : ''}`;
  return { ini, errors };
}

/** The `[autoscale.*]` sections of a stored INI, verbatim: the form does not edit them. */
export function autoscaleSections(ini: string): string {
  const kept: string[] = [];
  let inside = false;
  for (const line of ini.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]*)\]/.exec(line);
    if (header) inside = header[1]!.trim().startsWith('autoscale.');
    if (inside) kept.push(line);
  }
  return kept.join('\n').trim();
}

/** Each problem of the INI next to the field it came from; the rest under `''`. */
export function issuesByField(form: ClusterForm, issues: readonly ConfigIssue[]): FieldErrors {
  const errors: FieldErrors = new Map();
  for (const issue of issues) {
    const sec = issue.section ?? '';
    let key = '';
    if (sec === 'cluster' && (issue.key === 'name' || issue.key === 'description')) key = issue.key;
    else if (sec === 'cluster' && issue.key === undefined) key = 'name';
    else if (sec.startsWith('service.')) {
      const i = form.rows.findIndex((r) => r.name === sec.slice('service.'.length));
      const k = (SERVICE_FIELDS as readonly string[]).includes(issue.key ?? '') ? issue.key! : 'name';
      if (i >= 0) key = `s${i}.${k}`;
    }
    const where = key === '' ? `${sec ? `[${sec}] ` : ''}${issue.key ? `${issue.key}: ` : ''}` : '';
    add(errors, key, `${where}${issue.message}`);
  }
  return errors;
}
