/**
 * virDomainState (libvirt/libvirt-domain.h) → normalized state. Not-running but resumable
 * states (paused, pmsuspended, shutoff) map to 'stopping', as EC2's 'stopped' does; the
 * libvirt word stays in providerState.
 */
import type { InstanceState } from '../shared/index.js';

const WORDS = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;

const MAP: Record<string, InstanceState> = {
  nostate: 'pending', // being set up, no state reported yet
  running: 'running',
  blocked: 'running', // waiting on I/O: the guest is alive
  paused: 'stopping',
  shutdown: 'stopping', // shutting down
  shutoff: 'stopping', // defined but not running
  crashed: 'error',
  pmsuspended: 'stopping',
};

export function domainStateWord(code: number): string {
  return WORDS[code] ?? `state-${code}`;
}

export function normalizeDomainState(code: number): { state: InstanceState; providerState: string } {
  const providerState = domainStateWord(code);
  return { state: MAP[providerState] ?? 'unknown', providerState };
}
