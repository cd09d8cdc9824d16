/**
 * Where the agent's context comes from, in order:
 *  1. pairing: `pair_code` + `gateway_url` given — the context this machine was paired
 *     with before (saved: a code works once), else the gateway's POST /pair with the code;
 *  2. the sources of context/sources.ts: CLOUDGATE_CONTEXT_FILE, EC2 user-data, config drive;
 *     replaced by the saved context when that is a newer version for the same instance
 *     (a re-contextualized instance that restarts keeps its newer context).
 * Nothing found is a ContextNotFoundError listing every source tried.
 */
import type { Logger } from 'pino';
import { findContext, httpRequest, HttpFailure, type FindOptions } from './context/index.js';
import { InstanceError } from './errors.js';
import { bareOf, salvageCloudgate } from './identity.js';
import { loadSavedContext, saveContext } from './saved.js';

export type LocatedSource = 'file' | 'metadata' | 'config-drive' | 'pairing' | 'saved';
export interface Located {
  source: LocatedSource;
  location: string;
  text: string;
}

export interface LocateOptions {
  root: string;
  find: FindOptions;
  pairCode?: string;
  gatewayUrl?: string;
  log: Logger;
  pairTimeoutMs?: number;
}

export async function locateContext(o: LocateOptions): Promise<Located> {
  const saved = await loadSavedContext(o.root);
  if (o.pairCode || o.gatewayUrl) {
    if (!o.pairCode || !o.gatewayUrl)
      throw new InstanceError('CG_INSTANCE_PAIRING', 'pairing needs both pair_code and gateway_url');
    if (saved) {
      o.log.info({ version: saved.version }, 'already paired: using the saved context');
      return { source: 'saved', location: 'saved context', text: saved.text };
    }
    const text = await fetchPairedContext(o.gatewayUrl, o.pairCode, o.pairTimeoutMs ?? 10_000);
    const cg = salvageCloudgate(text).cloudgate;
    if (cg) await saveContext(o.root, { jid: bareOf(cg.jid), version: cg.contextVersion ?? 0, text });
    o.log.info({ gateway: o.gatewayUrl }, 'paired: context received');
    return { source: 'pairing', location: o.gatewayUrl, text };
  }
  const found = await findContext({ ...o.find, log: o.log });
  const cg = salvageCloudgate(found.text).cloudgate;
  if (saved && cg && saved.jid === bareOf(cg.jid) && saved.version > (cg.contextVersion ?? 0)) {
    o.log.info(
      { found: cg.contextVersion, saved: saved.version },
      'the saved context is newer than the one found: keeping it',
    );
    return { source: 'saved', location: 'saved context', text: saved.text };
  }
  return { source: found.source, location: found.location, text: found.text };
}

/** POST {gateway_url}/pair {"code": ...}: the context with a fresh identity, or why not. */
export async function fetchPairedContext(gatewayUrl: string, code: string, timeoutMs: number): Promise<string> {
  const url = `${gatewayUrl.replace(/\/+$/, '')}/pair`;
  let res;
  try {
    res = await httpRequest(url, {
      method: 'POST',
      timeoutMs,
      maxBytes: 1024 * 1024,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ code }),
    });
  } catch (err) {
    const why = err instanceof HttpFailure ? err.message : String(err);
    throw new InstanceError('CG_INSTANCE_PAIRING', `cannot reach the gateway for pairing: ${why}`, { cause: err });
  }
  let body: { context?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    /* described below */
  }
  if (res.status !== 200) {
    const msg = typeof body.message === 'string' ? body.message : res.body.toString('utf8').slice(0, 200);
    throw new InstanceError('CG_INSTANCE_PAIRING', `pairing refused by ${url}: HTTP ${res.status}: ${msg}`);
  }
  if (typeof body.context !== 'string')
    throw new InstanceError('CG_INSTANCE_PAIRING', `${url} answered without a context`);
  return body.context;
}
