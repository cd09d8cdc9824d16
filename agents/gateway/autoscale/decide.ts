/**
 * The autoscaling decision for one service: the policy's recommendation, then the
 * stabilization windows (each direction its own: up to the lowest recommendation of the
 * up window, down to the highest of the down window, and no scale-down before a full down
 * window was seen), then the step limits and the service's bounds. Pure: the same input
 * and state give the same decision and state, whatever the real clock says.
 */
import { fmt } from './metrics.js';
import { recommendQueue } from './queue.js';
import { recommendTarget } from './target.js';
import type { Decision, DecisionInput, DecisionState, Recommendation } from './types.js';

export function decide(input: DecisionInput, prev?: DecisionState): { decision: Decision; state: DecisionState } {
  const { policy: p, wanted, now } = input;
  const rec: Recommendation = p.type === 'target' ? recommendTarget(p, input) : recommendQueue(p, input, prev);
  const since = prev?.since ?? now;
  const keep = Math.max(p.upWindowMs, p.downWindowMs);
  const history = (prev?.history ?? []).filter((h) => now - h.at <= keep);
  if (rec.wanted !== undefined) history.push({ at: now, wanted: rec.wanted });
  const state: DecisionState = {
    since,
    history,
    ...(rec.waitingSince !== undefined ? { waitingSince: rec.waitingSince } : {}),
    idleSince: rec.idleSince ?? prev?.idleSince ?? {},
  };

  const notes: string[] = [];
  let next = wanted;
  if (rec.wanted !== undefined && rec.wanted > wanted) {
    const window = history.filter((h) => now - h.at <= p.upWindowMs);
    const low = Math.min(...window.map((h) => h.wanted));
    next = Math.max(wanted, low);
    if (low < rec.wanted) notes.push(`up window ${fmt(p.upWindowMs / 1000)} s: lowest recommendation ${low}`);
  } else if (rec.wanted !== undefined && rec.wanted < wanted) {
    if (now - since < p.downWindowMs) {
      notes.push(`down window ${fmt(p.downWindowMs / 1000)} s not yet observed`);
    } else {
      const high = Math.max(...history.filter((h) => now - h.at <= p.downWindowMs).map((h) => h.wanted));
      next = Math.min(wanted, high);
      if (high > rec.wanted) notes.push(`down window ${fmt(p.downWindowMs / 1000)} s: highest recommendation ${high}`);
    }
  }
  if (next > wanted + p.maxStepUp) {
    next = wanted + p.maxStepUp;
    notes.push(`max_step_up ${p.maxStepUp}`);
  }
  if (next < wanted - p.maxStepDown) {
    next = wanted - p.maxStepDown;
    notes.push(`max_step_down ${p.maxStepDown}`);
  }
  if (next > input.max) {
    next = input.max;
    notes.push(`max ${input.max}`);
  }
  if (next < input.min) {
    next = input.min;
    notes.push(`min ${input.min}`);
  }

  const reason = `${rec.reason}${notes.length ? `; limited by ${notes.join(', ')}` : ''}${next !== wanted ? `: ${wanted} -> ${next}` : ''}`;
  return {
    decision: {
      wanted: next,
      changed: next !== wanted,
      reason,
      data: { ...rec.data, policy: p.type, from: wanted, to: next, ...(notes.length ? { limits: notes } : {}) },
    },
    state,
  };
}
