/**
 * The shapes the gateway answers with, taken from protocols/gateway.ts so the client and
 * the gateway can never disagree about them.
 */
import type { ResponseOf } from '../../../protocols/index.js';
import { gateway } from '../../../protocols/index.js';

export type DeploymentView = ResponseOf<typeof gateway.Status>['deployments'][number];
export type ServiceView = DeploymentView['services'][number];
export type InstanceView = DeploymentView['instances'][number];
export type DeploymentState = DeploymentView['state'];
export type DeploymentEventView = typeof gateway.DeploymentEvent extends { payload: { decode(el: any): infer T } } ? T : never;
export type ContextView = ResponseOf<typeof gateway.ListContexts>['contexts'][number];
export type ClusterView = ResponseOf<typeof gateway.ListClusters>['clusters'][number];
export type CloudView = ResponseOf<typeof gateway.ListClouds>['clouds'][number];
export type WhoAmIView = ResponseOf<typeof gateway.WhoAmI>;
export type PairingCodeView = ResponseOf<typeof gateway.PairingCode>;

/** What `waitFor` can wait for: a deployment state, or `ready` (every service at its wanted count). */
export type WaitTarget = DeploymentState | 'ready';

export const TERMINAL_STATES: readonly DeploymentState[] = ['completed', 'failed', 'aborted'];

/** Every service has as many ready instances as it wants, and the deployment is live. */
export function isReady(d: DeploymentView): boolean {
  return (d.state === 'running' || d.state === 'completed') && d.services.length > 0 && d.services.every((s) => s.ready >= s.wanted);
}

export function isTerminal(d: DeploymentView): boolean {
  return TERMINAL_STATES.includes(d.state);
}
