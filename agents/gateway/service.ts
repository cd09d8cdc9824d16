/**
 * The gateway's use cases, one layer under every front (IQ in api.ts, chat in chat.ts,
 * HTTP): typed input, typed results, the model's CG_* errors, and authorization decided
 * here, once — each use case first makes the caller a user (ForbiddenError otherwise) and
 * only ever shows them what they may see: their own rows, public contexts, or everything
 * for an admin. Fronts translate their wire to these calls and the results and errors back.
 *
 * Deployments live in operations.ts; new deployment use cases (a scaling policy, pausing
 * and resuming it) belong there too, so every front gets them at once.
 */
import { bareJid } from '../../core/index.js';
import type { Access } from './access.js';
import {
  autoscaleRequest,
  type AutoscaleAction,
  type AutoscaleUseCases,
  type AutoscaleView,
} from './autoscale/index.js';
import type { Clouds } from './clouds.js';
import { createCloudReads, type CloudQuota, type CloudUse } from './cloud-reads.js';
import type { ContextTexts } from './contexts.js';
import {
  encryptContext,
  ForbiddenError,
  NotFoundError,
  type ClusterRecord,
  type Job,
  type ContextContent,
  type ContextInfo,
  type GatewayModel,
  type Visibility,
} from './model/index.js';
import type { Market } from './market.js';
import type { ImageRegistry } from './images.js';
import type { PublishedImage } from './image-publish.js';
import { StanzaError } from '../../protocols/index.js';
import { marketUseCases } from './market-service.js';
import type { Operations } from './operations.js';
import { createContextChecker, formatProblem, type ContextProblem } from './context-check.js';
import type { CloudView } from './wire.js';
import { cloudViews } from './views.js';
import { imageViews, type ImageView } from './image-views.js';

export interface WhoAmI {
  jid: string;
  admin: boolean;
  groups: string[];
  allowed: boolean;
}
export interface PutContextRequest {
  name: string;
  body: string;
  visibility?: Visibility;
  passphrase?: string;
}
export interface ReadContextRequest {
  ref: string;
  version?: number;
  passphrase?: string;
}
export interface ContextText {
  context: ContextInfo;
  version: number;
  body: string;
}
/** A stored context with what its check found that may still be fine. */
export interface StoredContext {
  context: ContextInfo;
  warnings: ContextProblem[];
}
export interface PairingRequest {
  context: string;
  version?: number;
  ttlS?: number;
}
/** `expires`: seconds since the epoch. */
export interface PairingAnswer {
  code: string;
  expires: number;
}

/** The pairing module's use case, when pairing is configured (pairing.ts). */
/** One request over the autoscale use cases: `service` for all but show, `policy` only for set. */
export interface AutoscaleRequest {
  deployment: string;
  action: AutoscaleAction;
  service?: string;
  policy?: string;
}

/** `shared`: `ref` is a context id whose version a marketplace entry shares (pairing.ts). */
export type CreatePairingCode = (
  owner: string,
  ref: string,
  version: number | undefined,
  ttlS: number | undefined,
  shared?: boolean,
) => PairingAnswer;

/** A code as its owner sees it later: never the code itself (only its hash is kept). */
export interface PairingClaim {
  context: string;
  version: number;
  created: number;
  expires: number;
  claimed?: number;
  jid?: string;
}
export interface PairingClaims {
  recent(owner: string): PairingClaim[];
  readonly events: import('node:events').EventEmitter;
}

export { formatProblem };

export function createService(deps: {
  model: GatewayModel;
  access: Access;
  texts: ContextTexts;
  ops: Operations;
  clouds: Clouds;
  autoscale: AutoscaleUseCases;
  market: Market;
  pairing?: CreatePairingCode;
  /** The codes an owner issued and which machine claimed each (pairing.ts). */
  pairingClaims?: PairingClaims;
  /** The image registry ([images] in the gateway INI), when there is one. */
  images?: ImageRegistry;
}) {
  const { model, access, texts, ops, clouds, pairing, autoscale } = deps;
  const cloudReads = createCloudReads({ clouds, access, model });
  /** The caller's bare JID once they may use the gateway. */
  const authorize = (caller: string): string => access.requireUser(caller).jid;
  const checker = createContextChecker();

  const readable = (me: string, ref: string): ContextInfo => {
    const c = model.contexts.resolve(ref, me);
    if (!c) throw new NotFoundError('context', ref);
    return c;
  };

  return {
    authorize,
    users: {
      /** Anyone may ask who they are, allowed or not. */
      whoami(caller: string): WhoAmI {
        const jid = bareJid(caller);
        return { jid, admin: access.isAdmin(jid), groups: access.groupsOf(jid), allowed: access.mayUse(jid) };
      },
    },

    deployments: ops,

    jobs: {
      /** One job of a deployment the caller may see (CG_NOT_FOUND for any other). */
      get(caller: string, id: string): Job {
        const me = authorize(caller);
        const j = model.jobs.get(id);
        const d = j && model.deployments.get(j.deploymentId);
        if (!j || !d || !access.canManage(me, d.owner)) throw new NotFoundError('job', id);
        return j;
      },
    },

    /** A deployment's autoscaling policies (CG_NOT_FOUND, CG_CONFLICT, CG_INVALID). */
    autoscale: {
      show: (caller: string, deployment: string): AutoscaleView[] => autoscale.show(authorize(caller), deployment),
      pause: (caller: string, deployment: string, service: string): AutoscaleView =>
        autoscale.pause(authorize(caller), deployment, service),
      resume: (caller: string, deployment: string, service: string): AutoscaleView =>
        autoscale.resume(authorize(caller), deployment, service),
      /** Replaces a service's policy with `key = value` lines (an `[autoscale.<service>]` section's body). */
      set: (caller: string, deployment: string, service: string, policy: string): AutoscaleView =>
        autoscale.set(authorize(caller), deployment, service, policy),
      request(caller: string, req: AutoscaleRequest): AutoscaleView[] {
        const me = authorize(caller);
        return autoscaleRequest(autoscale, me, req);
      },
    },

    contexts: {
      list: (caller: string): ContextInfo[] => model.contexts.list(authorize(caller)),
      get: (caller: string, ref: string): ContextInfo => readable(authorize(caller), ref),
      /** Checks `body` as an instance agent would, without storing anything. */
      check: (caller: string, body: string) => {
        authorize(caller);
        return checker.check(body);
      },
      /**
       * Stores a new context, or a new version of the caller's context of that name, if
       * its body passes the check (ContextRejectedError naming every problem otherwise).
       */
      async put(caller: string, req: PutContextRequest): Promise<StoredContext> {
        const me = authorize(caller);
        const warnings = await checker.accept(req.body);
        const content: ContextContent =
          req.passphrase !== undefined
            ? { type: 'encrypted', blob: await encryptContext(req.body, req.passphrase) }
            : { type: 'plain', body: req.body };
        const own = model.contexts.byName(me, req.name);
        if (!own)
          return {
            context: model.contexts.create({
              owner: me,
              name: req.name,
              visibility: req.visibility ?? 'private',
              content,
            }),
            warnings,
          };
        model.transaction(() => {
          model.contexts.newVersion(own.id, content);
          if (req.visibility && req.visibility !== own.visibility) model.contexts.setVisibility(own.id, req.visibility);
        });
        return { context: model.contexts.require(own.id), warnings };
      },
      async read(caller: string, req: ReadContextRequest): Promise<ContextText> {
        const c = readable(authorize(caller), req.ref);
        const version = req.version ?? c.latest;
        if (!Number.isSafeInteger(version) || version < 1 || version > c.latest)
          throw new NotFoundError(`context '${c.name}' version`, String(version));
        return { context: c, version, body: await texts.read(c.id, version, req.passphrase) };
      },
      clone(caller: string, req: { ref: string; name?: string }): ContextInfo {
        const me = authorize(caller);
        const c = readable(me, req.ref);
        return model.contexts.clone(c.id, me, req.name ? { name: req.name } : {});
      },
      /** Only the owner (or an admin) changes who may read a context. */
      setVisibility(caller: string, req: { ref: string; visibility: Visibility }): ContextInfo {
        const me = authorize(caller);
        const c = readable(me, req.ref);
        if (!access.canManage(me, c.owner)) throw new NotFoundError('context', req.ref);
        return model.contexts.setVisibility(c.id, req.visibility);
      },
    },

    clusters: {
      list(caller: string): ClusterRecord[] {
        const me = authorize(caller);
        return access.isAdmin(me) ? model.clusters.list() : model.clusters.list(me);
      },
      get(caller: string, name: string): ClusterRecord {
        const rec = model.clusters.get(authorize(caller), name);
        if (!rec) throw new NotFoundError('cluster', name);
        return rec;
      },
      put: (caller: string, ini: string): ClusterRecord => model.clusters.put(authorize(caller), ini),
    },

    /** The marketplace of shared contexts and cluster definitions (market-service.ts). */
    market: marketUseCases(deps.market, authorize, {
      model,
      deploy: (user, req) => ops.deploy(user, req),
      ...(pairing ? { pair: (owner, id, version, ttlS) => pairing(owner, id, version, ttlS, true) } : {}),
    }),

    images: {
      /** Verifies and adds signed image metadata (image-publish.ts); not-acceptable with the reason otherwise. */
      publish(caller: string, envelope: string): PublishedImage {
        const me = authorize(caller);
        const publish = deps.images?.publish;
        if (!publish)
          throw new StanzaError(
            'item-not-found',
            'this gateway has no image registry ([images] endorsers and metadata_dir in its INI)',
            'not-found',
          );
        return publish(me, envelope);
      },
      /** The registry's images, each with the online clouds that map its name (none without a registry). */
      list(caller: string): ImageView[] {
        authorize(caller);
        return imageViews(deps.images?.images ?? [], clouds);
      },
    },

    clouds: {
      list(caller: string): CloudView[] {
        authorize(caller);
        return cloudViews(clouds);
      },
      /** Each cloud's free room and whether its ACL and quota let the caller use it. */
      usable: (caller: string): Promise<CloudUse[]> => cloudReads.usable(authorize(caller)),
      /** The addresses of a deployment's instances, as their clouds report them. */
      addresses: (caller: string, deployment: string): Promise<Map<string, string[]>> =>
        cloudReads.addresses(ops.get(caller, deployment)),
    },

    /** Admins only (CG_FORBIDDEN for anyone else): every cloud's quota use. */
    admin: {
      quota(caller: string): CloudQuota[] {
        const me = authorize(caller);
        if (!access.isAdmin(me)) throw new ForbiddenError(`${me} is not an admin of this gateway`);
        return cloudReads.quota();
      },
    },

    /** Absent when pairing is not configured. */
    pairing: pairing && {
      code: (caller: string, req: PairingRequest): PairingAnswer =>
        pairing(authorize(caller), req.context, req.version, req.ttlS),
      /** The caller's recent codes, newest first, with the machine that claimed each. */
      claims: (caller: string): PairingClaim[] => deps.pairingClaims?.recent(authorize(caller)) ?? [],
      /** Emits 'claimed' with the owner's bare JID when a machine redeems one of their codes. */
      events: deps.pairingClaims?.events,
    },
  };
}

export type Service = ReturnType<typeof createService>;
