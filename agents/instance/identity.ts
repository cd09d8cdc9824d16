/**
 * Who this instance is on XMPP and whom it obeys, from the context's [cloudgate] section.
 *
 * The section is read even when the rest of the context is broken (a syntax error in
 * [files] must not keep the instance from joining and saying so), and it survives
 * re-contextualization: identity (jid, server, CA) never changes under a running agent;
 * a newer context may only update whom to obey and whom to report to.
 */
import { ContextError, parseContext, sectionText, type CloudgateSection } from './context/index.js';
import { InstanceError } from './errors.js';

export interface Salvaged {
  /** The section, when it parsed. */
  cloudgate?: CloudgateSection;
  /** Why the whole document did not parse (the section may still be usable). */
  error?: ContextError;
}

/** The [cloudgate] section of `text`, parsed alone when the whole document does not parse. */
export function salvageCloudgate(text: string): Salvaged {
  try {
    return { cloudgate: parseContext(text).cloudgate };
  } catch (err) {
    if (!(err instanceof ContextError)) throw err;
    const alone = sectionText(text, 'cloudgate');
    if (alone === undefined) return { error: err };
    try {
      return { cloudgate: parseContext(alone).cloudgate, error: err };
    } catch {
      return { error: err };
    }
  }
}

export const bareOf = (jid: string): string => jid.split('/')[0].toLowerCase();

/**
 * The section to run with after a newer context arrives: identity from `current`, whom to
 * obey and report to from `incoming` when it has them, `version` as the context version.
 * A token is taken over only when it lives longer than the one held.
 */
export function mergeCloudgate(
  current: CloudgateSection,
  incoming: CloudgateSection | undefined,
  version: number,
): CloudgateSection {
  if (incoming && bareOf(incoming.jid) !== bareOf(current.jid)) {
    throw new InstanceError(
      'CG_INSTANCE_IDENTITY',
      `the new context is for ${bareOf(incoming.jid)}, this instance is ${bareOf(current.jid)}`,
    );
  }
  const newerToken = incoming?.token !== undefined && (incoming.tokenExpires ?? 0) > (current.tokenExpires ?? 0);
  return Object.freeze({
    ...current,
    ...(newerToken ? { token: incoming!.token, tokenExpires: incoming!.tokenExpires } : {}),
    // An empty allow list would lock everyone out of a running instance: keep the old one.
    allow: incoming?.allow.length ? incoming.allow : current.allow,
    gateway: incoming?.gateway ?? current.gateway,
    cloud: incoming?.cloud ?? current.cloud,
    deployment: incoming?.deployment ?? current.deployment,
    service: incoming?.service ?? current.service,
    contextId: incoming?.contextId ?? current.contextId,
    heartbeatInterval: incoming?.heartbeatInterval ?? current.heartbeatInterval,
    metricsInterval: incoming?.metricsInterval ?? current.metricsInterval,
    contextVersion: version,
  });
}

/** The live identity: the section in force, replaced on re-contextualization. */
export class Identity {
  constructor(
    public section: CloudgateSection,
    readonly instanceId: string,
  ) {}

  get jid(): string {
    return this.section.jid;
  }
  get bare(): string {
    return bareOf(this.section.jid);
  }
  get gateway(): string | undefined {
    return this.section.gateway;
  }
  get cloud(): string | undefined {
    return this.section.cloud;
  }

  /** May `bare` command this instance? Only the JIDs its context names. */
  allows(bare: string): boolean {
    return this.section.allow.includes(bare.toLowerCase());
  }

  /** May `bare` talk to this agent at all (commands, presence, receipts)? */
  trusts(bare: string): boolean {
    const b = bare.toLowerCase();
    return this.allows(b) || b === this.section.gateway || b === this.section.cloud;
  }
}
