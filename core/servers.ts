/**
 * The servers an agent may log in to (the nodes of an ejabberd cluster), and the order
 * and pace in which it tries them: the current server first (a stream can only resume
 * where its session lives), then, after each failed attempt, the next one in the list.
 * The backoff grows once per round through the whole list, so a node that is down costs
 * one short attempt before its peer is tried, while a cluster that is down altogether
 * is retried ever more slowly (full jitter, as for a single server).
 */
import { backoffDelay, type BackoffOptions } from './backoff.js';

export class ServerRotation {
  private index = 0;
  private failures = 0;

  constructor(
    readonly services: readonly string[],
    private readonly backoff?: BackoffOptions,
  ) {
    if (services.length === 0) throw new Error('at least one server is required');
  }

  /** The server the next attempt goes to. */
  get current(): string {
    return this.services[this.index];
  }

  /**
   * A login attempt on `current` failed: moves on to the next server and returns how long
   * to wait before trying it.
   */
  failed(): number {
    const round = Math.floor(this.failures / this.services.length);
    this.failures++;
    this.index = (this.index + 1) % this.services.length;
    return backoffDelay(round, this.backoff);
  }

  /** A session is up on `current`: the next failure starts from the first round again. */
  succeeded(): void {
    this.failures = 0;
  }
}
