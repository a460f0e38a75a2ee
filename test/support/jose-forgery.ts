/**
 * Hand-made JWS for the hostile tests: any protected header and any payload, signed with any key
 * (or MACed, or not signed at all), with node:crypto rather than jose — jose refuses to produce most
 * of what an attacker would send (alg none, unknown crit, b64=false, mismatched embedded keys).
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface ForgeryKey {
  alg: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function keyOf(alg: string, pair: { privateKey: KeyObject; publicKey: KeyObject }): ForgeryKey {
  return { alg, privateKey: pair.privateKey, publicJwk: pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
}

/** Keys of every kind an attacker might try: the right type, other curves, a tiny RSA key. */
export function forgeryKeys(): Record<'es256' | 'es384' | 'es256k' | 'ed25519' | 'rsaTiny', ForgeryKey> {
  return {
    es256: keyOf('ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })),
    es384: keyOf('ES384', generateKeyPairSync('ec', { namedCurve: 'P-384' })),
    es256k: keyOf('ES256K', generateKeyPairSync('ec', { namedCurve: 'secp256k1' })),
    ed25519: keyOf('EdDSA', generateKeyPairSync('ed25519')),
    rsaTiny: keyOf('RS256', generateKeyPairSync('rsa', { modulusLength: 512 })),
  };
}

/** Signs `header.payload` as the header's algorithm says, with the given key (JOSE signature formats). */
export function signCompact(header: Record<string, unknown>, payload: unknown, key: KeyObject | undefined): string {
  const input = `${b64(header)}.${b64(payload)}`;
  if (key === undefined) return `${input}.`;
  const kind = key.asymmetricKeyType;
  const digest = header.alg === 'ES384' ? 'sha384' : 'sha256';
  const signature =
    kind === 'ed25519' || kind === 'ed448'
      ? sign(null, Buffer.from(input), key)
      : kind === 'ec'
        ? sign(digest, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
        : sign(digest, Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

/** HS256 with a given secret: algorithm confusion uses the victim's public key as the secret. */
export function macCompact(header: Record<string, unknown>, payload: unknown, secret: string | Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
