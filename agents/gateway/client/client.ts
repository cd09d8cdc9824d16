/**
 * GatewayClient: the gateway's typed API (protocols/gateway.ts) for programs. One XMPP
 * session (an Agent of kind 'client'); every method is one request to the gateway and
 * returns its typed result; a refusal arrives as the gateway's StanzaError, unchanged,
 * so callers switch on `condition` and `app`.
 *
 *   const gw = await GatewayClient.connect({ server: '127.0.0.1:5222', jid: 'ada@example.org', password });
 *   const d = await gw.deploy('batch', { counts: { worker: 5 } });
 *   await gw.waitFor(d.id, ['ready'], { onProgress: ({ view }) => … });
 *   await gw.close();
 */
import { Agent, createLogger, type Logger } from '../../../core/index.js';
import { gateway as gw, StanzaError, type RequestDef } from '../../../protocols/index.js';
import { toXmppOptions, splitJid, type ClientOptions } from './options.js';
import { createLocator, type Locator } from './locate.js';
import { createFollower, type EventListener, type Following } from './follow.js';
import { waitFor, type WaitOptions } from './wait.js';
import type {
  AutoscalePolicyView,
  CloneEntryView,
  EntryDeploymentView,
  EntryPairingView,
  PublishedImageView,
  ImageView,
  MarketEntryView,
  MarketPageView,
  ClusterView,
  CloudView,
  ContextView,
  DeploymentView,
  PairingCodeView,
  WaitTarget,
  WhoAmIView,
} from './types.js';

export class GatewayClient {
  /** The gateway JID requests go to (full JID once located). */
  get gatewayJid(): string | undefined {
    return this.locator.jid;
  }
  private readonly followImpl: ReturnType<typeof createFollower>;

  private constructor(
    readonly agent: Agent,
    private readonly locator: Locator,
  ) {
    this.followImpl = createFollower(agent);
  }

  /** Logs in and finds the gateway; rejects with ConnectionError or GatewayUnreachableError. */
  static async connect(o: ClientOptions): Promise<GatewayClient> {
    const xmpp = await toXmppOptions(o);
    const { domain } = splitJid(o.jid);
    const given = o.gateway ?? `gateway@${domain}`;
    const slash = given.indexOf('/');
    // Bare JIDs compare lower-cased (as the server does); a resource keeps its case.
    const gatewayBare = (slash < 0 ? given : given.slice(0, slash)).toLowerCase();
    const gateway = slash < 0 ? gatewayBare : gatewayBare + given.slice(slash);
    const log: Logger = o.log ?? createLogger({ level: 'silent' });
    const agent = new Agent({
      kind: 'client',
      xmpp,
      log,
      // A client serves no requests; only the gateway's presence matters to it.
      trusted: (bare) => bare === gatewayBare,
    });
    const client = new GatewayClient(agent, createLocator(agent, gateway, o.gatewayTimeoutMs ?? 10_000));
    await agent.start();
    try {
      await client.locator.resolve();
    } catch (err) {
      await agent.stop();
      throw err;
    }
    return client;
  }

  /** Our own JID as the server bound it. */
  get jid(): string {
    return this.agent.jid;
  }

  async close(): Promise<void> {
    await this.agent.stop();
  }

  /** One request to the gateway; a stale session (the gateway restarted) is looked up once more. */
  async request<Q, R>(def: RequestDef<Q, R>, req: Q, o?: { timeoutMs?: number }): Promise<R> {
    const to = await this.locator.resolve();
    try {
      return await this.agent.request(def, to, req, o);
    } catch (err) {
      // The server answers for a session that is gone, without an application condition.
      // A restarted gateway usually binds the same resource: the same full JID is then a new
      // session, found again by its fresh presence.
      if (
        err instanceof StanzaError &&
        !err.app &&
        (err.condition === 'service-unavailable' || err.condition === 'recipient-unavailable') &&
        this.locator.forget(to)
      ) {
        return this.agent.request(def, await this.locator.resolve(), req, o);
      }
      throw err;
    }
  }

  // ---- deployments ------------------------------------------------------------------

  async deploy(
    cluster: string,
    o: { counts?: Record<string, number>; passphrase?: string } = {},
  ): Promise<DeploymentView> {
    const counts = o.counts && Object.keys(o.counts).length ? o.counts : undefined;
    return (await this.request(gw.Deploy, { cluster, counts, passphrase: o.passphrase })).deployment;
  }

  status(): Promise<DeploymentView[]>;
  status(id: string): Promise<DeploymentView>;
  async status(id?: string): Promise<DeploymentView[] | DeploymentView> {
    const { deployments } = await this.request(gw.Status, { deployment: id });
    if (id === undefined) return deployments;
    const d = deployments.find((x) => x.id === id);
    if (!d) throw new StanzaError('item-not-found', `no deployment '${id}'`, 'not-found');
    return d;
  }

  async scale(id: string, service: string, count: number): Promise<DeploymentView> {
    return (await this.request(gw.Scale, { deployment: id, service, count })).deployment;
  }

  /** Autoscaling policies of a deployment: show them, pause or resume one, or set one (`key = value` lines). */
  async autoscale(
    id: string,
    action: 'show' | 'pause' | 'resume' | 'set',
    o: { service?: string; policy?: string } = {},
  ): Promise<AutoscalePolicyView[]> {
    return (await this.request(gw.Autoscale, { deployment: id, action, service: o.service, policy: o.policy }))
      .policies;
  }

  /** Publishes one of your contexts (its newest version) or, with `cluster`, one of your cluster definitions. */
  async publish(o: {
    context?: string;
    cluster?: string;
    summary: string;
    description?: string;
    tags?: string[];
  }): Promise<MarketEntryView> {
    return (
      await this.request(gw.Publish, {
        context: o.context,
        cluster: o.cluster,
        summary: o.summary,
        description: o.description,
        tags: o.tags,
      })
    ).entry;
  }

  async unpublish(id: string): Promise<void> {
    await this.request(gw.Unpublish, { id });
  }

  /** Searches the marketplace: words, +tag required, -tag excluded; `page` from 1. */
  async market(q: string, page?: number): Promise<MarketPageView> {
    return this.request(gw.MarketSearch, { q: q === '' ? undefined : q, page });
  }

  async vote(id: string, value: 'up' | 'down' | 'clear'): Promise<MarketEntryView> {
    return (await this.request(gw.Vote, { id, value })).entry;
  }

  /** Copies a marketplace entry into a context (or cluster definition) of yours. */
  async cloneEntry(id: string, name?: string): Promise<CloneEntryView> {
    return this.request(gw.CloneEntry, { id, name });
  }

  /** Deploys a cluster entry as your cluster of its name (cloned on first use). */
  async deployEntry(
    id: string,
    o: { counts?: Record<string, number>; passphrase?: string } = {},
  ): Promise<EntryDeploymentView> {
    const counts = o.counts && Object.keys(o.counts).length ? o.counts : undefined;
    return this.request(gw.DeployEntry, { id, counts, passphrase: o.passphrase });
  }

  /** A single-use pairing code for the context version a context entry published. */
  pairEntry(id: string, o: { ttlS?: number } = {}): Promise<EntryPairingView> {
    return this.request(gw.PairEntry, { id, ttl_s: o.ttlS });
  }

  /** Publishes signed image metadata (an envelope's JSON text) to the gateway's image registry. */
  publishImage(envelope: string): Promise<PublishedImageView> {
    return this.request(gw.PublishImage, { envelope });
  }

  /** The gateway's image registry, with the clouds that have each image. */
  async images(): Promise<ImageView[]> {
    return (await this.request(gw.ListImages, {})).images;
  }

  async destroy(id: string): Promise<DeploymentView> {
    return (await this.request(gw.Destroy, { deployment: id })).deployment;
  }

  /** Calls `fn` for each event of the deployment, first those already published (catch-up). */
  follow(id: string, fn: EventListener, o?: { afterSeq?: number }): Promise<Following> {
    return this.followImpl(id, fn, o);
  }

  /**
   * The seq of the deployment's latest event (-1 if none), so that a wait started after
   * a scale or destroy reports only what follows it (`waitFor(…, { afterSeq })`).
   */
  async lastEventSeq(id: string): Promise<number> {
    let last = -1;
    for (const item of await this.agent.pubsub.items(`deployments/${id}`, 1)) {
      try {
        last = Math.max(last, gw.DeploymentEvent.payload.decode(item.payload).seq);
      } catch {
        /* not an event */
      }
    }
    return last;
  }

  /**
   * Resolves once the deployment is in one of `targets` (`ready`: every service at its
   * wanted count; `gone`: no instance left) or can no longer get there (failed, aborted);
   * the caller reads the returned state. TimeoutError after `timeoutMs`.
   */
  waitFor(id: string, targets: readonly WaitTarget[], o?: WaitOptions): Promise<DeploymentView> {
    return waitFor(
      {
        status: (x) => this.status(x),
        follow: (x, fn, f) => this.follow(x, fn, f),
        onFollowError: (err) =>
          this.agent.log.warn(
            { err, deployment: id },
            "cannot follow the deployment's events; polling its status instead",
          ),
      },
      id,
      targets,
      o,
    );
  }

  // ---- contexts, clusters, clouds ------------------------------------------------------

  async contexts(): Promise<ContextView[]> {
    return (await this.request(gw.ListContexts, {})).contexts;
  }

  /** The stored context; `warnings` lists what the gateway's check found that may still be fine. */
  async putContext(
    name: string,
    body: string,
    o: { visibility?: 'public' | 'private'; passphrase?: string } = {},
  ): Promise<ContextView & { warnings?: string[] }> {
    const r = await this.request(gw.PutContext, { name, body, visibility: o.visibility, passphrase: o.passphrase });
    return r.warnings?.length ? { ...r.context, warnings: r.warnings } : r.context;
  }

  getContext(
    ref: string,
    o: { version?: number; passphrase?: string } = {},
  ): Promise<{ context: ContextView; body: string }> {
    return this.request(gw.GetContext, { ref, version: o.version, passphrase: o.passphrase });
  }

  async cloneContext(ref: string, name?: string): Promise<ContextView> {
    return (await this.request(gw.CloneContext, { ref, name })).context;
  }

  async clusters(): Promise<ClusterView[]> {
    return (await this.request(gw.ListClusters, {})).clusters;
  }

  /** Uploads a cluster definition (INI text); the gateway validates it. */
  async putCluster(definition: string): Promise<ClusterView> {
    return (await this.request(gw.PutCluster, { definition })).cluster;
  }

  async clouds(): Promise<CloudView[]> {
    return (await this.request(gw.ListClouds, {})).clouds;
  }

  whoami(): Promise<WhoAmIView> {
    return this.request(gw.WhoAmI, {});
  }

  pairingCode(context: string, o: { version?: number; ttlS?: number } = {}): Promise<PairingCodeView> {
    return this.request(gw.PairingCode, { context, version: o.version, ttl_s: o.ttlS });
  }
}
