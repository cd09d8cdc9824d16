/**
 * A heartbeat with metrics every heartbeat_interval seconds, one-way to the gateway: the
 * gateway scales on the metrics and declares the instance lost when beats stop. It goes
 * to the gateway's session (full JID, from its presence), never to the bare JID: ejabberd
 * would store beats for an offline gateway and flood it with stale ones later. While the
 * gateway is not known to be online, each beat re-announces us instead: a restarted
 * gateway lost our directed presence, and answers the new one with its own.
 *
 * Metrics are sampled every metrics_interval (default: every beat) and the latest sample
 * rides on each beat.
 */
import type { Logger } from 'pino';
import type { Agent, AgentModule } from '../../core/index.js';
import { instance as proto } from '../../protocols/index.js';
import type { Identity } from './identity.js';
import type { Lifecycle } from './lifecycle.js';
import type { Metrics, MetricsCollector } from './metrics.js';

const { Heartbeat } = proto;

export const DEFAULT_HEARTBEAT_S = 30;

export interface HeartbeatDeps {
  identity: Identity;
  life: Lifecycle;
  metrics: MetricsCollector;
  log: Logger;
  /** Overrides [cloudgate] heartbeat_interval (seconds). */
  intervalS?: number;
}

export function heartbeat({
  identity,
  life,
  metrics,
  log,
  intervalS,
}: HeartbeatDeps): AgentModule & { beat(): Promise<boolean> } {
  let agent: Agent | undefined;
  let timer: NodeJS.Timeout | undefined;
  let seq = 0;
  let sample: { at: number; m: Metrics } | undefined;

  /** Sends one beat now; false when there is no gateway (online) to send it to. */
  const beat = async (): Promise<boolean> => {
    const gw = identity.gateway;
    if (!agent || !gw) return false;
    const peer = agent.presence.get(gw);
    if (!peer) {
      await agent.announceTo(gw);
      return false;
    }
    const every = (identity.section.metricsInterval ?? 0) * 1000;
    if (!sample || Date.now() - sample.at >= every) sample = { at: Date.now(), m: await metrics.collect() };
    const m = sample.m;
    const s = life.snapshot();
    await agent.send(Heartbeat, peer.jid, {
      instance_id: identity.instanceId,
      deployment: identity.section.deployment,
      service: identity.section.service,
      seq: seq++,
      phase: s.phase,
      context_version: s.contextVersion,
      load1: m.load1,
      mem_used_pct: m.mem_used_pct,
      disk_used_pct: m.disk_used_pct,
      busy: s.busy,
      custom: Object.keys(m.custom).length ? m.custom : undefined,
      at: new Date().toISOString(),
    });
    return true;
  };

  const loop = () => {
    const every = (intervalS ?? identity.section.heartbeatInterval ?? DEFAULT_HEARTBEAT_S) * 1000;
    timer = setTimeout(() => {
      beat()
        .catch((err) => log.warn({ err }, 'heartbeat failed'))
        .finally(() => {
          if (agent) loop();
        });
    }, every);
    timer.unref();
  };

  return {
    name: 'heartbeat',
    beat,
    start(a) {
      agent = a;
      if (!identity.gateway) log.warn('no gateway named in [cloudgate] gateway: no heartbeats will be sent');
      loop();
    },
    stop() {
      agent = undefined;
      clearTimeout(timer);
    },
  };
}
