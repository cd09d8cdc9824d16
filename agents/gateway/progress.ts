/**
 * Progress lines for people: while a deployment changes, tell the person who asked how far
 * each service is ("head: 1/1 ready", "worker: 2/3 ready"), what is waiting or lost, and
 * how it ended. Built on the gateway's own event feed, so it needs no PubSub subscription.
 */
import type { EventEmitter } from 'node:events';
import { summarize } from './desired.js';
import type { DeploymentEvent, GatewayModel } from './model/index.js';

export type Until = 'deployed' | 'job' | 'destroyed';

export function watchProgress(deps: {
  model: GatewayModel;
  events: EventEmitter;
  deploymentId: string;
  until: Until;
  jobId?: string;
  /** Only these services' lines (default all). */
  services?: readonly string[];
  say: (line: string) => Promise<void>;
  maxMs?: number;
}): () => void {
  const { model, events, deploymentId, say } = deps;
  const last = new Map<string, string>();
  let done = false;

  const send = (line: string) => {
    say(line).catch(() => {});
  };

  const finished = (): string | undefined => {
    const d = model.deployments.require(deploymentId);
    if (deps.until === 'destroyed') {
      return model.events.list(deploymentId).some((e) => e.type === 'destroyed')
        ? `Deployment ${d.id} destroyed: nothing left running.`
        : undefined;
    }
    if (deps.until === 'job' && deps.jobId) {
      const j = model.jobs.require(deps.jobId);
      if (j.state === 'succeeded') return `${j.kind} of ${d.id} done.`;
      if (j.state === 'failed' || j.state === 'cancelled')
        return `${j.kind} of ${d.id} ${j.state}${j.error ? `: ${j.error}` : ''}.`;
      return undefined;
    }
    if (d.state === 'completed') return `Deployment ${d.id} completed: every instance is ready.`;
    if (d.state === 'failed' || d.state === 'aborted') {
      const why = model.events
        .list(d.id)
        .filter((e) => e.type === 'state')
        .pop()?.message;
      return `Deployment ${d.id} ${d.state}${why ? ` (${why})` : ''}.`;
    }
    return undefined;
  };

  const onEvent = (e: DeploymentEvent) => {
    if (done || e.deploymentId !== deploymentId) return;
    if (e.type === 'lost' || e.type === 'placement') send(e.message);
    const d = model.deployments.get(deploymentId);
    if (!d) return;
    if (deps.until === 'destroyed') {
      const left = model.instances.list(d.id).filter((i) => i.state !== 'terminated').length;
      const line = `${left} instance(s) left to terminate`;
      if (left > 0 && last.get('') !== line) send(line);
      last.set('', line);
    } else {
      for (const s of summarize(d.definition, model.wanted.all(d.id), model.instances.list(d.id))) {
        if (deps.services && !deps.services.includes(s.name)) continue;
        const line = `${s.name}: ${s.ready}/${s.wanted} ready`;
        if (last.get(s.name) !== line && (last.has(s.name) || s.ready > 0 || deps.until !== 'deployed')) send(line);
        last.set(s.name, line);
      }
    }
    const end = finished();
    if (end) {
      send(end);
      stop();
    }
  };

  const timer = setTimeout(() => stop(), deps.maxMs ?? 3_600_000);
  timer.unref();
  function stop(): void {
    if (done) return;
    done = true;
    clearTimeout(timer);
    events.off('event', onEvent);
  }
  events.on('event', onEvent);
  return stop;
}
