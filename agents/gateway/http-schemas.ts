/** JSON schemas of the HTTP API (TypeBox): requests are validated by them, and the OpenAPI document is made of them. */
import { Type } from 'typebox';

const closed = { additionalProperties: false } as const;
export const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const Id = Type.String({ minLength: 1, maxLength: 128 });
export const Visibility = Type.Union([Type.Literal('public'), Type.Literal('private')]);
export const ScopeT = Type.Union([Type.Literal('read'), Type.Literal('full')]);

export const ProblemT = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String(),
  detail: Type.String(),
  field: Type.Optional(Type.String()),
  problems: Type.Optional(Type.Array(Type.Unknown())),
  instance: Type.Optional(Type.String()),
});

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 3, maxLength: 3071 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  closed,
);
export const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 512 }) }, closed);
export const TokensAnswer = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
});

export const WhoAmIT = Type.Object({
  jid: Type.String(),
  admin: Type.Boolean(),
  groups: Type.Array(Type.String()),
  allowed: Type.Boolean(),
  scope: ScopeT,
});

export const ContextT = Type.Object({
  id: Type.String(),
  name: Type.String(),
  owner: Type.String(),
  visibility: Visibility,
  version: Type.Integer(),
  encrypted: Type.Boolean(),
  parent: Type.Optional(Type.String()),
});
export const ContextBody = Type.Object(
  {
    name: Name,
    body: Type.String({ maxLength: 256 * 1024 }),
    visibility: Type.Optional(Visibility),
    passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  closed,
);
export const ContextVersionBody = Type.Object(
  {
    body: Type.String({ maxLength: 256 * 1024 }),
    passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  closed,
);
export const ContextStored = Type.Object({ context: ContextT, warnings: Type.Array(Type.String()) });
export const ContextRead = Type.Object({ context: ContextT, version: Type.Integer(), body: Type.String() });

export const ClusterT = Type.Object({
  name: Type.String(),
  owner: Type.String(),
  services: Type.Array(Type.String()),
  definition: Type.Optional(Type.String()),
  /** The definition as parsed: services in deploy order with their counts, flavors, images and policies. */
  spec: Type.Optional(
    Type.Object(
      {
        name: Type.String(),
        description: Type.Optional(Type.String()),
        services: Type.Array(Type.Object({ name: Type.String(), type: Type.String() }, { additionalProperties: true })),
      },
      { additionalProperties: true },
    ),
  ),
});
export const ClusterBody = Type.Object({ definition: Type.String({ minLength: 1, maxLength: 256 * 1024 }) }, closed);

const ServiceT = Type.Object({
  name: Type.String(),
  type: Type.String(),
  wanted: Type.Integer(),
  ready: Type.Integer(),
});
const InstanceT = Type.Object({
  name: Type.String(),
  service: Type.String(),
  cloud: Type.String(),
  state: Type.String(),
  ready: Type.Boolean(),
  context_version: Type.Integer(),
  cloud_instance_id: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
});
export const DeploymentT = Type.Object({
  id: Type.String(),
  cluster: Type.String(),
  owner: Type.String(),
  state: Type.String(),
  created: Type.String(),
  updated: Type.String(),
  node: Type.String(),
  destroyed: Type.Optional(Type.String()),
  services: Type.Array(ServiceT),
  instances: Type.Array(InstanceT),
  autoscale: Type.Optional(
    Type.Array(
      Type.Object({
        service: Type.String(),
        policy: Type.String(),
        paused: Type.Boolean(),
        note: Type.Optional(Type.String()),
        last: Type.Optional(Type.String()),
      }),
    ),
  ),
});
export const DeployBody = Type.Object(
  {
    cluster: Name,
    counts: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.Integer({ minimum: 0, maximum: 100000 }))),
    passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  closed,
);
export const ScaleBody = Type.Object({ service: Name, count: Type.Integer({ minimum: 0, maximum: 100000 }) }, closed);
export const DeploymentList = Type.Object({ deployments: Type.Array(DeploymentT), next: Type.Optional(Type.String()) });
export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 256 })),
    state: Type.Optional(Type.String({ maxLength: 32 })),
    cluster: Type.Optional(Type.String({ maxLength: 128 })),
  },
  closed,
);

export const EventT = Type.Object({
  seq: Type.Integer(),
  deployment: Type.String(),
  time: Type.String(),
  type: Type.String(),
  message: Type.String(),
  data: Type.Optional(Type.Unknown()),
});
export const EventsQuery = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  closed,
);
export const JobT = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  state: Type.String(),
  request: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.String()),
  created: Type.String(),
  updated: Type.String(),
});

export const CloudT = Type.Object({
  jid: Type.String(),
  name: Type.String(),
  driver: Type.String(),
  online: Type.Boolean(),
  instances: Type.Integer(),
  free_instances: Type.Integer(),
});
export const TokenT = Type.Object({
  id: Type.String(),
  name: Type.String(),
  owner: Type.String(),
  kind: Type.String(),
  scope: ScopeT,
  created: Type.String(),
  expires: Type.Optional(Type.String()),
  last_used: Type.Optional(Type.String()),
});
export const TokenBody = Type.Object(
  { name: Name, scope: ScopeT, ttl_s: Type.Optional(Type.Integer({ minimum: 60, maximum: 366 * 86400 })) },
  closed,
);
export const PairingBody = Type.Object(
  {
    context: Id,
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    ttl_s: Type.Optional(Type.Integer({ minimum: 30, maximum: 86400 })),
  },
  closed,
);
export const IdParam = Type.Object({ id: Id });

export const AutoscaleT = Type.Object({
  service: Type.String(),
  policy: Type.String(),
  paused: Type.Boolean(),
  note: Type.Optional(Type.String()),
  last: Type.Optional(Type.String()),
});
export const AutoscaleBody = Type.Object({ policy: Type.String({ minLength: 1, maxLength: 16 * 1024 }) }, closed);
export const ServiceParam = Type.Object({ id: Id, service: Name });

export const MarketEntryT = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('context'), Type.Literal('cluster')]),
  owner: Type.String(),
  name: Type.String(),
  summary: Type.String(),
  description: Type.Optional(Type.String()),
  context: Type.Optional(Type.String()),
  version: Type.Optional(Type.Integer()),
  encrypted: Type.Boolean(),
  tags: Type.Array(Type.String()),
  rank: Type.Integer(),
  votes: Type.Integer(),
  created: Type.String(),
});
export const MarketQuery = Type.Object(
  { q: Type.Optional(Type.String({ maxLength: 1024 })), cursor: Type.Optional(Type.String({ maxLength: 64 })) },
  closed,
);
export const MarketPageT = Type.Object({
  entries: Type.Array(MarketEntryT),
  total: Type.Integer(),
  next: Type.Optional(Type.String()),
});
export const PublishBody = Type.Object(
  {
    context: Type.Optional(Id),
    cluster: Type.Optional(Name),
    summary: Type.String({ minLength: 1, maxLength: 140 }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
  },
  closed,
);
export const VoteBody = Type.Object(
  { value: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('clear')]) },
  closed,
);
export const CloneBody = Type.Object({ name: Type.Optional(Name) }, closed);
export const CloneAnswer = Type.Object({ context: Type.Optional(ContextT), cluster: Type.Optional(ClusterT) });
