/**
 * What the instance is doing. Its phase, readiness and busy flag are derived from a few
 * facts (how far contextualization got, whether it was asked to drain, how many scripts
 * run), so presence and heartbeat can never disagree with each other.
 */
import { EventEmitter } from 'node:events';
import type { instance as proto } from '../../protocols/index.js';

type InstancePhase = proto.InstancePhase;

export type ContextPhase = 'booting' | 'contextualizing' | 'ready' | 'failed';

export interface LifeSnapshot {
  phase: InstancePhase;
  ready: boolean;
  busy: boolean;
  contextVersion: number;
}

export class Lifecycle extends EventEmitter {
  private contextPhase: ContextPhase = 'booting';
  private version = 0;
  private draining = false;
  private running = 0;
  private last = '';
  readonly startedAt = Date.now();

  get phase(): InstancePhase {
    if (this.contextPhase === 'contextualizing' || this.contextPhase === 'booting') return this.contextPhase;
    if (this.draining) return this.running > 0 ? 'draining' : 'drained';
    return this.contextPhase;
  }

  get contextVersion(): number {
    return this.version;
  }
  /** How far contextualization got, drain aside. */
  get context(): ContextPhase {
    return this.contextPhase;
  }
  get busy(): boolean {
    return this.running > 0;
  }
  get isDraining(): boolean {
    return this.draining;
  }
  get isContextualizing(): boolean {
    return this.contextPhase === 'contextualizing';
  }

  snapshot(): LifeSnapshot {
    const phase = this.phase;
    return { phase, ready: phase === 'ready', busy: this.busy, contextVersion: this.version };
  }

  /** Contextualization progress; `version` is the context the machine now runs. */
  setContext(phase: ContextPhase, version?: number): void {
    this.contextPhase = phase;
    if (version !== undefined) this.version = version;
    this.changed();
  }

  /** Stops new work; true when nothing is running (already idle). */
  drain(): boolean {
    this.draining = true;
    this.changed();
    return this.running === 0;
  }

  /** Marks a unit of work running; the returned function ends it (once). */
  beginWork(): () => void {
    this.running++;
    this.changed();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running--;
      this.changed();
    };
  }

  /** Emits 'change' with the snapshot whenever something visible changed. */
  private changed(): void {
    const s = this.snapshot();
    const key = JSON.stringify(s);
    if (key === this.last) return;
    this.last = key;
    this.emit('change', s);
  }
}
