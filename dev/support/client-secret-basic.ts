/**
 * Reads `Authorization: Basic …` as client_secret_basic: the client id and secret are
 * application/x-www-form-urlencoded before being joined with a colon (RFC 6749 §2.3.1). Shared by
 * the development authorization server and the SecureAuth stand-in of the tests.
 */
export function parseClientSecretBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const formDecode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined; // malformed percent-encoding
  }
}
