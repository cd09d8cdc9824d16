/**
 * The contexts a deployment runs. At deploy time each service's context reference (a
 * name or id, maybe a version) is pinned to an exact context id and version, so later
 * instances of the deployment (scale-up, replacements) get the very same text.
 *
 * Encrypted versions are decrypted with the passphrase given with the deploy request and
 * kept in memory only: the passphrase is never stored, so after a gateway restart an
 * encrypted context cannot be sent again until the owner deploys anew.
 */
import type { ClusterDef, GatewayModel } from './model/index.js';
import { decryptContext, NotFoundError, PassphraseError, PassphraseRequiredError } from './model/index.js';

export interface PinnedContext {
  readonly id: string;
  readonly version: number;
}

export function createContextTexts({ model }: { model: GatewayModel }) {
  const decrypted = new Map<string, string>();
  const key = (c: PinnedContext) => `${c.id}@${c.version}`;

  /**
   * The body of a version, decrypting with `passphrase` if needed. Every caller must know
   * the passphrase, even when the text is in memory already: someone else's deploy must
   * not open the context to everyone who can read its ciphertext.
   */
  async function read(id: string, version: number, passphrase?: string): Promise<string> {
    const v = model.contexts.version(id, version);
    if (!v) throw new NotFoundError('context version', `${id}@${version}`);
    if (v.content.type === 'plain') return v.content.body;
    if (passphrase === undefined)
      throw new PassphraseRequiredError(`context ${id}@${version} is encrypted: a passphrase is needed`);
    try {
      const text = await decryptContext(v.content.blob, passphrase);
      decrypted.set(`${id}@${version}`, text);
      return text;
    } catch (err) {
      if (err instanceof PassphraseError)
        throw new PassphraseError(`wrong passphrase for context ${id}@${version}`, { cause: err });
      throw err;
    }
  }

  return {
    read,
    /** A copy of `def` whose context references are exact context ids and versions. */
    async pin(def: ClusterDef, owner: string, passphrase?: string): Promise<ClusterDef> {
      const services = [];
      for (const s of def.services) {
        if (!s.context) {
          services.push(s);
          continue;
        }
        const info = model.contexts.resolve(s.context.ref, owner);
        if (!info) throw new NotFoundError(`service '${s.name}': context`, s.context.ref);
        const version = s.context.version ?? info.latest;
        await read(info.id, version, passphrase);
        services.push({ ...s, context: { ref: info.id, version } });
      }
      return { ...def, services };
    },
    /** The text to send for a pinned context, or undefined if it is encrypted and not in memory. */
    text(c: PinnedContext): string | undefined {
      const v = model.contexts.version(c.id, c.version);
      if (!v) return undefined;
      return v.content.type === 'plain' ? v.content.body : decrypted.get(key(c));
    },
  };
}

export type ContextTexts = ReturnType<typeof createContextTexts>;
