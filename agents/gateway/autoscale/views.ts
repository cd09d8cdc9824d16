/**
 * What the scaler keeps of a deployment between ticks: its active instances by service,
 * each as the view the decision reads (the stored row and the latest heartbeat). A
 * heartbeat updates its instance's view where it stands (`heard`), so a tick reads no
 * report and makes no object for any instance: it hands the kept lists to the decision.
 */
import type { ScaledRow } from '../model/index.js';
import type { Report, ScaledInstance } from './types.js';

/** A kept view: its report is replaced by each heartbeat of the instance. */
export type View = { -readonly [K in keyof ScaledInstance]: ScaledInstance[K] };

export interface Slot {
  /** Every active instance of the service: what a policy whose `source` it is reads. */
  readonly all: readonly View[];
  /** Those that are not head replicas: the ones the service's own policy counts. */
  readonly own: readonly View[];
}

/** The views of one deployment's rows, grouped by service, with their latest reports; each is entered in `index` by instance id. */
export function slotsOf(
  rows: readonly ScaledRow[],
  report: (id: string) => Report | undefined,
  index: Map<string, View>,
): Map<string, Slot> {
  const byService = new Map<string, { all: View[]; own: View[] }>();
  for (const i of rows) {
    let slot = byService.get(i.service);
    if (!slot) {
      slot = { all: [], own: [] };
      byService.set(i.service, slot);
    }
    const r = report(i.id);
    const v: View = r
      ? { id: i.id, createdAt: i.createdAt, ready: i.ready, report: r }
      : { id: i.id, createdAt: i.createdAt, ready: i.ready };
    index.set(i.id, v);
    slot.all.push(v);
    if (!i.replica) slot.own.push(v);
  }
  return byService;
}

/** Takes the views of `slots` out of `index` (their deployment is read again, or gone). */
export function forget(slots: ReadonlyMap<string, Slot>, index: Map<string, View>): void {
  for (const s of slots.values()) for (const v of s.all) if (index.get(v.id) === v) index.delete(v.id);
}

/** A heartbeat of instance `id`: its kept view, if any, shows it from now on. */
export function heard(index: ReadonlyMap<string, View>, id: string, report: Report): void {
  const v = index.get(id);
  if (v) v.report = report;
}
