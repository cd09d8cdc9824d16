/**
 * PubSub (XEP-0060) for broadcast and history: ensure a node exists with a given
 * configuration, publish typed items, subscribe, typed event handlers, and catch-up of
 * items published while the agent was away (event notifications are headlines, which
 * ejabberd does not store offline, so the agent reads the node's items on start).
 */
import { Element } from 'ltx';
import type { Logger } from 'pino';
import type { Db } from './store.js';
import type { EventDef } from '../protocols/index.js';
import { StanzaError } from '../protocols/index.js';
import { uniqueId } from './ids.js';
import { onceLogger } from './once-log.js';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';

export interface NodeConfig {
  maxItems?: number;
  accessModel?: 'open' | 'presence' | 'roster' | 'authorize' | 'whitelist';
  publishModel?: 'publishers' | 'subscribers' | 'open';
  persistItems?: boolean;
}

export interface EventMeta {
  node: string;
  itemId: string;
  catchUp: boolean;
}
export type EventHandler<T> = (payload: T, meta: EventMeta) => Promise<void> | void;

type IqFn = (to: string, type: 'get' | 'set', payload: Element, timeoutMs?: number) => Promise<Element | undefined>;

const SEEN = `CREATE TABLE IF NOT EXISTS cg_pubsub_seen (node TEXT PRIMARY KEY, item_id TEXT NOT NULL)`;

export class PubSub {
  private handlers = new Map<string, { def: EventDef<any>; fn: EventHandler<any> }>();
  private readonly warn: ReturnType<typeof onceLogger>;

  constructor(
    readonly service: string,
    private readonly iq: IqFn,
    private readonly db: Db,
    private readonly log: Logger,
    private readonly ownBare: () => string,
  ) {
    db.exec(SEEN);
    this.warn = onceLogger(log);
  }

  on<T>(def: EventDef<T>, fn: EventHandler<T>): void {
    this.handlers.set(`${def.payload.ns} ${def.payload.name}`, { def, fn });
  }

  async ensureNode(node: string, config: NodeConfig = {}): Promise<void> {
    const form = configForm(config);
    const create = new Element('pubsub', { xmlns: NS_PUBSUB });
    create.c('create', { node });
    create.c('configure').cnode(form);
    try {
      await this.iq(this.service, 'set', create);
    } catch (err) {
      if (!(err instanceof StanzaError) || err.condition !== 'conflict') throw err;
      const cfg = new Element('pubsub', { xmlns: NS_PUBSUB_OWNER });
      cfg.c('configure', { node }).cnode(configForm(config));
      try {
        await this.iq(this.service, 'set', cfg);
      } catch (e) {
        if (e instanceof StanzaError && e.condition === 'forbidden') await this.reportSquatted(node);
        throw e;
      }
    }
  }

  /** The node exists and is someone else's: whoever reads it may be reading a squatter's items. */
  private async reportSquatted(node: string): Promise<void> {
    let owners = 'unknown';
    try {
      const q = new Element('query', { xmlns: 'http://jabber.org/protocol/disco#info', node });
      const form = (await this.iq(this.service, 'get', q))?.getChild('x', 'jabber:x:data');
      const field = form?.getChildren('field').find((f) => f.attrs.var === 'pubsub#owner');
      owners =
        field
          ?.getChildren('value')
          .map((v) => v.getText())
          .join(', ') || owners;
    } catch {
      /* the owner stays unknown; the refusal is reported all the same */
    }
    this.log.error(
      { node, owner: owners, self: this.ownBare() },
      `PubSub node ${node} is owned by ${owners}, not by this agent: it was created (squatted) by another account; delete it or have its owner hand it over`,
    );
  }

  async deleteNode(node: string): Promise<void> {
    const del = new Element('pubsub', { xmlns: NS_PUBSUB_OWNER });
    del.c('delete', { node });
    try {
      await this.iq(this.service, 'set', del);
    } catch (err) {
      if (!(err instanceof StanzaError) || err.condition !== 'item-not-found') throw err;
    }
  }

  /** Grants `member`/`publisher`/`none` affiliations (whitelist nodes). */
  async setAffiliations(
    node: string,
    affiliations: Record<string, 'member' | 'publisher' | 'owner' | 'none' | 'outcast'>,
  ): Promise<void> {
    const el = new Element('pubsub', { xmlns: NS_PUBSUB_OWNER });
    const a = el.c('affiliations', { node });
    for (const [jid, affiliation] of Object.entries(affiliations)) a.c('affiliation', { jid, affiliation });
    await this.iq(this.service, 'set', el);
  }

  /**
   * Ends every subscription to `node` of a bare JID not in `keep` (XEP-0060 §8.8): a node
   * made whitelist keeps the subscriptions taken while it was open otherwise.
   */
  async pruneSubscriptions(node: string, keep: ReadonlySet<string>): Promise<string[]> {
    const get = new Element('pubsub', { xmlns: NS_PUBSUB_OWNER });
    get.c('subscriptions', { node });
    const res = await this.iq(this.service, 'get', get);
    const subs = res?.getChild('subscriptions')?.getChildren('subscription') ?? [];
    const drop = subs.filter((s) => {
      const jid = String(s.attrs.jid ?? '');
      return jid && s.attrs.subscription !== 'none' && !keep.has(jid.split('/')[0]!.toLowerCase());
    });
    if (drop.length === 0) return [];
    const set = new Element('pubsub', { xmlns: NS_PUBSUB_OWNER });
    const el = set.c('subscriptions', { node });
    for (const s of drop)
      el.c('subscription', {
        jid: String(s.attrs.jid),
        subscription: 'none',
        ...(s.attrs.subid ? { subid: String(s.attrs.subid) } : {}),
      });
    await this.iq(this.service, 'set', set);
    return drop.map((s) => String(s.attrs.jid));
  }

  /** Publishes an item; ids are time-ordered so catch-up can sort them. */
  async publish<T>(def: EventDef<T>, node: string, payload: T, itemId = uniqueId()): Promise<string> {
    const el = new Element('pubsub', { xmlns: NS_PUBSUB });
    el.c('publish', { node }).c('item', { id: itemId }).cnode(def.payload.encode(payload));
    await this.iq(this.service, 'set', el);
    return itemId;
  }

  async subscribe(node: string): Promise<void> {
    const el = new Element('pubsub', { xmlns: NS_PUBSUB });
    el.c('subscribe', { node, jid: this.ownBare() });
    await this.iq(this.service, 'set', el);
  }

  async unsubscribe(node: string): Promise<void> {
    const el = new Element('pubsub', { xmlns: NS_PUBSUB });
    el.c('unsubscribe', { node, jid: this.ownBare() });
    try {
      await this.iq(this.service, 'set', el);
    } catch {
      /* not subscribed */
    }
  }

  /** The node's stored items, oldest first. */
  async items(node: string, max = 1000): Promise<Array<{ id: string; payload: Element }>> {
    const el = new Element('pubsub', { xmlns: NS_PUBSUB });
    el.c('items', { node, max_items: String(max) });
    const res = await this.iq(this.service, 'get', el);
    const items = res?.getChild('items')?.getChildren('item') ?? [];
    return items
      .map((i) => ({ id: String(i.attrs.id), payload: i.getChildElements()[0] }))
      .filter((i) => i.payload)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Delivers items published after the last one this agent handled (survives restarts). */
  async catchUp(node: string): Promise<number> {
    const row = this.db.prepare('SELECT item_id FROM cg_pubsub_seen WHERE node = ?').get(node) as
      | { item_id: string }
      | undefined;
    let n = 0;
    for (const item of await this.items(node)) {
      if (row && item.id <= row.item_id) continue;
      await this.dispatch(node, item.id, item.payload, true);
      n++;
    }
    return n;
  }

  /**
   * Handles a pubsub event message; returns true if it was one. Only the PubSub service
   * sends event notifications (XEP-0060 §7.1.2.1): anyone else can message us a
   * look-alike, and taking it would let a stranger fake an event or move the node's
   * catch-up position past events not yet seen, so such a message is dropped (logged once
   * per sender).
   */
  async onMessage(el: Element): Promise<boolean> {
    const event = el.getChild('event', NS_PUBSUB_EVENT);
    if (!event) return false;
    const from = String(el.attrs.from ?? '');
    if (from.toLowerCase() !== this.service.toLowerCase()) {
      this.warn(`forged-event ${from.split('/')[0]}`, { from }, 'pubsub event not from the PubSub service; ignored');
      return true;
    }
    const items = event.getChild('items');
    if (!items) return true;
    const node = String(items.attrs.node ?? '');
    for (const item of items.getChildren('item')) {
      const payload = item.getChildElements()[0];
      if (payload) await this.dispatch(node, String(item.attrs.id ?? ''), payload, false);
    }
    return true;
  }

  private async dispatch(node: string, itemId: string, payload: Element, catchUp: boolean): Promise<void> {
    const h = this.handlers.get(`${payload.attrs.xmlns} ${payload.name}`);
    if (!h) return;
    try {
      await h.fn(h.def.payload.decode(payload), { node, itemId, catchUp });
      if (itemId) {
        this.db
          .prepare(`INSERT INTO cg_pubsub_seen (node, item_id) VALUES (?, ?)
          ON CONFLICT(node) DO UPDATE SET item_id = excluded.item_id WHERE excluded.item_id > cg_pubsub_seen.item_id`)
          .run(node, itemId);
      }
    } catch (err) {
      this.log.warn({ err, node, itemId }, 'pubsub event handler failed');
    }
  }
}

function configForm(c: NodeConfig): Element {
  const x = new Element('x', { xmlns: 'jabber:x:data', type: 'submit' });
  const field = (v: string, value: string, type?: string) =>
    x
      .c('field', type ? { var: v, type } : { var: v })
      .c('value')
      .t(value);
  field('FORM_TYPE', 'http://jabber.org/protocol/pubsub#node_config', 'hidden');
  field('pubsub#persist_items', c.persistItems === false ? '0' : '1');
  field('pubsub#max_items', String(c.maxItems ?? 1000));
  field('pubsub#access_model', c.accessModel ?? 'open');
  field('pubsub#publish_model', c.publishModel ?? 'publishers');
  field('pubsub#notification_type', 'headline');
  return x;
}
