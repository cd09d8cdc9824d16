/**
 * How the parts of the gateway tell each other that something changed. The parts that
 * report changes (liveness, the tracker, removal, the model's event log) are built before
 * the parts that act on them (the conductor, the publisher), because those depend on the
 * former; the notifier is handed to both sides, so nobody closes over a variable that is
 * assigned later. Notes given before a listener is attached are kept and delivered to it
 * when it is (each deployment once), so none is lost during wiring.
 */
import type { DeploymentEvent, Instance } from './model/index.js';

export interface ChangeListener {
  /** Something about this deployment changed: look at it again. */
  changed(deploymentId: string): void;
  /** This instance was declared lost. */
  lost(i: Instance): void;
  /** An event was appended to a deployment's log (inside the model's transaction). */
  appended(e: DeploymentEvent): void;
}

export interface Notifier extends ChangeListener {
  /** Delivers to `to` from now on; first what came before it was attached. Once per channel. */
  attach(to: Partial<ChangeListener>): void;
}

export function createNotifier(): Notifier {
  const target: Partial<ChangeListener> = {};
  const early = { changed: new Set<string>(), lost: [] as Instance[], appended: [] as DeploymentEvent[] };
  return {
    changed(id) {
      if (target.changed) target.changed(id);
      else early.changed.add(id);
    },
    lost(i) {
      if (target.lost) target.lost(i);
      else early.lost.push(i);
    },
    appended(e) {
      if (target.appended) target.appended(e);
      else early.appended.push(e);
    },
    attach(to) {
      for (const k of ['changed', 'lost', 'appended'] as const) {
        if (to[k] && target[k]) throw new Error(`the gateway notifier has a '${k}' listener already`);
      }
      Object.assign(target, to);
      if (to.appended) for (const e of early.appended.splice(0)) to.appended(e);
      if (to.lost) for (const i of early.lost.splice(0)) to.lost(i);
      if (to.changed) {
        const ids = [...early.changed];
        early.changed.clear();
        for (const id of ids) to.changed(id);
      }
    },
  };
}
