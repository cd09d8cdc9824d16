/** Short names for the wire types the gateway speaks (inferred from the protocol definitions). */
import type { PresenceDef, MessageDef, EventDef, RequestOf, ResponseOf } from '../../protocols/index.js';
import type { cloud, instance, gateway } from '../../protocols/index.js';

type PresenceOf<D> = D extends PresenceDef<infer T> ? T : never;
type MessageOf<D> = D extends MessageDef<infer T> ? T : never;
type EventOf<D> = D extends EventDef<infer T> ? T : never;

export type CloudPresenceData = PresenceOf<typeof cloud.CloudPresence>;
export type DiscoverRequest = RequestOf<typeof cloud.Discover>;
export type ListedInstance = ResponseOf<typeof cloud.ListInstances>['instances'][number];
export type AllocateMsg = MessageOf<typeof cloud.Allocate>;
export type AllocateResultMsg = MessageOf<typeof cloud.AllocateResult>;
export type InstanceStateMsg = MessageOf<typeof cloud.InstanceState>;
export type TerminateMsg = MessageOf<typeof cloud.Terminate>;

export type InstancePresenceData = PresenceOf<typeof instance.InstancePresence>;
export type HeartbeatMsg = MessageOf<typeof instance.Heartbeat>;
export type ContextReportMsg = MessageOf<typeof instance.ContextReport>;

export type DeploymentView = ResponseOf<typeof gateway.Deploy>['deployment'];
export type ContextView = ResponseOf<typeof gateway.PutContext>['context'];
export type ClusterView = ResponseOf<typeof gateway.PutCluster>['cluster'];
export type MarketEntryView = ResponseOf<typeof gateway.Publish>['entry'];
export type CloudView = ResponseOf<typeof gateway.ListClouds>['clouds'][number];
export type ImageView = ResponseOf<typeof gateway.ListImages>['images'][number];
export type DeploymentEventItem = EventOf<typeof gateway.DeploymentEvent>;
