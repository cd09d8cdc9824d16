/**
 * SCRAM-SHA-1 for password logins: the mechanism xmpp.js uses, with two changes.
 *
 * - The salted password (RFC 5802's Hi, which is PBKDF2-HMAC-SHA-1) is one call to the
 *   runtime's PBKDF2. The library computes it as 4,096 HMACs, each an asynchronous
 *   WebCrypto call; on a loaded machine that took longer than the login's stall timeout.
 * - A login attempt given up meanwhile (core/connection.ts) sends no answer: its final
 *   message would go out on the next attempt's stream, whose server then refuses that
 *   login ("Nonce mismatch"). The credentials say whether their attempt still stands.
 */
import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import ScramSha1 from 'sasl-scram-sha-1';

const pbkdf2Async = promisify(pbkdf2);
/** More rounds than this from a server would be a way to make its clients burn CPU. */
const MAX_ITERATIONS = 1_000_000;

export interface ScramCredentials {
  username: string;
  password: string;
  /** True once the login attempt these credentials were given to has been given up. */
  abandoned: () => boolean;
}

export class AbandonedLoginError extends Error {}

/** RFC 5802 Hi(password, salt, i): PBKDF2 with HMAC-SHA-1 and the hash's length. */
export async function saltedPassword(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  return new Uint8Array(await pbkdf2Async(password, salt, iterations, 20, 'sha1'));
}

export class Scram extends ScramSha1 {
  override async response(cred: ScramCredentials): Promise<string> {
    let given: object = cred;
    if (this._stage === 'challenge') {
      const i = this._iterationCount;
      if (!Number.isInteger(i) || i < 1 || i > MAX_ITERATIONS)
        throw new Error(`the server asked for ${i} SCRAM iterations (1..${MAX_ITERATIONS} are done)`);
      // The library reuses a salted password given for the salt the server sent.
      given = { ...cred, salt: this._salt, saltedPassword: await saltedPassword(cred.password, this._salt, i) };
    }
    const out = await super.response(given);
    if (cred.abandoned()) throw new AbandonedLoginError('login attempt given up: its SCRAM answer is not sent');
    return out;
  }
}
