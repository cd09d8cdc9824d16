/**
 * The shapes the gateway answers with, taken from protocols/gateway.ts so the client and
 * the gateway can never disagree about them.
 */
import type { ResponseOf } from '../../../protocols/index.js';
import type { gateway } from '../../../protocols/index.js';

export type DeploymentView = ResponseOf<typeof gateway.Status>['deployments'][number];
export type ServiceView = DeploymentView['services'][number];
export type InstanceView = DeploymentView['instances'][number];
export type DeploymentState = DeploymentView['state'];
export type DeploymentEventView = typeof gateway.DeploymentEvent extends { payload: { decode(el: any): infer T } }
  ? T
  : never;
export type ContextView = ResponseOf<typeof gateway.ListContexts>['contexts'][number];
export type ClusterView = ResponseOf<typeof gateway.ListClusters>['clusters'][number];
export type CloudView = ResponseOf<typeof gateway.ListClouds>['clouds'][number];
export type WhoAmIView = ResponseOf<typeof gateway.WhoAmI>;
export type PairingCodeView = ResponseOf<typeof gateway.PairingCode>;
export type AutoscalePolicyView = ResponseOf<typeof gateway.Autoscale>['policies'][number];
export type MarketEntryView = ResponseOf<typeof gateway.Publish>['entry'];
export type MarketPageView = ResponseOf<typeof gateway.MarketSearch>;
export type CloneEntryView = ResponseOf<typeof gateway.CloneEntry>;
export type EntryDeploymentView = ResponseOf<typeof gateway.DeployEntry>;
export type EntryPairingView = ResponseOf<typeof gateway.PairEntry>;
export type PublishedImageView = ResponseOf<typeof gateway.PublishImage>;
export type ImageView = ResponseOf<typeof gateway.ListImages>['images'][number];

/**
 * What `waitFor` can wait for: a deployment state, `ready` (every service at its wanted
 * count) or `gone` (ended, and no instance left running: what a destroy waits for).
 */
export type WaitTarget = DeploymentState | 'ready' | 'gone';

/**
 * States a deployment does not leave. `completed` is not one: it means the deployment
 * finished deploying, and it can still be scaled or destroyed.
 */
export const TERMINAL_STATES: readonly DeploymentState[] = ['failed', 'aborted'];

const ENDED_INSTANCE = new Set(['terminated', 'failed']);

const LEAVING_INSTANCE = new Set(['draining', 'terminating']);

/**
 * The deployment is live, every service has exactly as many ready instances as it wants,
 * and none is on its way out: after a scale-in, "ready" means the surplus has gone.
 */
export function isReady(d: DeploymentView): boolean {
  return (
    (d.state === 'running' || d.state === 'completed') &&
    d.services.length > 0 &&
    d.services.every((s) => s.ready === s.wanted) &&
    !d.instances.some((i) => LEAVING_INSTANCE.has(i.state))
  );
}

export function isTerminal(d: DeploymentView): boolean {
  return TERMINAL_STATES.includes(d.state);
}

/** No instance of the deployment is left (after a destroy, or a failure that cleaned up). */
export function isGone(d: DeploymentView): boolean {
  return d.state !== 'pending' && d.state !== 'running' && d.instances.every((i) => ENDED_INSTANCE.has(i.state));
}
