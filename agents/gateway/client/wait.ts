/**
 * Waiting for a deployment to reach a state: follow its events and re-read its status
 * after each (coalesced), plus a slow poll in case an event is lost or the gateway does
 * not publish one for a readiness change. Stops waiting early at a terminal state, since
 * nothing changes after it; the caller reads the returned state.
 */
import { TimeoutError } from '../../../protocols/index.js';
import type { Following, EventListener } from './follow.js';
import {
  isGone,
  isReady,
  isTerminal,
  type DeploymentEventView,
  type DeploymentView,
  type WaitTarget,
} from './types.js';

export interface WaitOptions {
  timeoutMs?: number;
  /** Status re-read interval without events (default 2 s). */
  pollMs?: number;
  /** Every fresh view and every event, for progress displays. */
  onProgress?: (p: { view?: DeploymentView; event?: DeploymentEventView }) => void;
  signal?: AbortSignal;
  /** Events up to this seq are old news: not reported (see GatewayClient.lastEventSeq). */
  afterSeq?: number;
}

export interface WaitDeps {
  status(id: string): Promise<DeploymentView>;
  follow(id: string, fn: EventListener, o: { afterSeq?: number }): Promise<Following>;
  /** Told when following events is impossible and waiting falls back to polling. */
  onFollowError?(err: unknown): void;
}

export function matches(d: DeploymentView, targets: readonly WaitTarget[]): boolean {
  return targets.some((t) => (t === 'ready' ? isReady(d) : t === 'gone' ? isGone(d) : d.state === t));
}

/** Nothing more can happen that the caller waits for: a failed or aborted deployment
 * never becomes ready (but its instances still go away, which `gone` waits for). */
function hopeless(d: DeploymentView, targets: readonly WaitTarget[]): boolean {
  return isTerminal(d) && !targets.includes('gone');
}

/** The gateway did not answer or is not online: worth asking again. */
function transient(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'CG_UNREACHABLE' || code === 'CG_TIMEOUT' || err instanceof TimeoutError;
}

export async function waitFor(
  deps: WaitDeps,
  id: string,
  targets: readonly WaitTarget[],
  o: WaitOptions = {},
): Promise<DeploymentView> {
  const timeoutMs = o.timeoutMs ?? 10 * 60_000;
  let settle!: (v: DeploymentView) => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<DeploymentView>((res, rej) => {
    settle = res;
    fail = rej;
  });
  done.catch(() => {
    /* awaited below; this keeps an early rejection from counting as unhandled */
  });
  let finished = false;
  let reading = false;
  let again = false;
  let last: DeploymentView | undefined;
  let lastError: Error | undefined;

  const check = async (): Promise<void> => {
    if (finished) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const view = await deps.status(id);
        last = view;
        if (finished) return;
        o.onProgress?.({ view });
        if (matches(view, targets) || hopeless(view, targets)) {
          finished = true;
          settle(view);
          return;
        }
      } while (again);
    } catch (err) {
      // A gateway that is briefly away (restarting, or its server is) is waited out like
      // a slow deployment: the next poll asks again, until the wait's own deadline.
      if (transient(err)) {
        lastError = err as Error;
        return;
      }
      finished = true;
      fail(err);
    } finally {
      reading = false;
    }
  };

  const timer = setTimeout(() => {
    finished = true;
    const where = last
      ? ` (state ${last.state}; ${last.services.map((s) => `${s.name} ${s.ready}/${s.wanted}`).join(', ')})`
      : '';
    const why = lastError ? `; last error: ${lastError.message}` : '';
    fail(
      new TimeoutError(
        `deployment ${id} did not reach ${targets.join(' or ')} within ${Math.round(timeoutMs / 1000)} s${where}${why}`,
      ),
    );
  }, timeoutMs);
  const poll = setInterval(() => void check(), o.pollMs ?? 2000);
  const onAbort = () => {
    finished = true;
    fail(o.signal?.reason ?? new Error('aborted'));
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  let following: Following | undefined;
  try {
    // Without the event node (not created yet, or not open to us) polling still works.
    following = await deps
      .follow(
        id,
        (event) => {
          if (finished) return;
          o.onProgress?.({ event });
          void check();
        },
        { afterSeq: o.afterSeq },
      )
      .catch((err) => {
        deps.onFollowError?.(err);
        return undefined;
      });
    await check();
    return await done;
  } finally {
    finished = true;
    clearTimeout(timer);
    clearInterval(poll);
    o.signal?.removeEventListener('abort', onAbort);
    await following?.stop();
  }
}
