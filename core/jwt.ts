/**
 * JWT logins for ejabberd's `jwt` auth method: an HS256 token whose `jid` claim names
 * the account and whose `exp` bounds its life. Whoever holds the key can mint a login
 * for any JID of the hosts that key serves, so keys are per host and tokens short-lived.
 */
import { readFileSync } from 'node:fs';
import { SignJWT, importJWK, type JWK } from 'jose';
import { ConfigError } from './errors.js';

export interface JwtKey {
  key: Uint8Array | CryptoKey;
  file?: string;
}

export async function loadJwtKey(file: string): Promise<JwtKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (err) {
    throw new ConfigError(`${file}: cannot read JWT key (${(err as Error).message})`, { cause: err });
  }
  if (jwk.kty !== 'oct' || !jwk.k) throw new ConfigError(`${file}: JWT key must be a symmetric JWK (kty "oct")`);
  return { key: (await importJWK(jwk, 'HS256')) as Uint8Array | CryptoKey, file };
}

/** Mints a login token for `jid` (bare) valid for `ttlSeconds`. */
export async function mintToken(
  key: JwtKey,
  jid: string,
  ttlSeconds = 3600,
): Promise<{ token: string; expires: number }> {
  const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
  const token = await new SignJWT({ jid })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(key.key);
  return { token, expires };
}
