import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { AuthenticationRequest, ConsentView } from '../../src/domain/authentication-request.js';
import { buildConsentView, consentHash } from '../../src/domain/consent-view.js';

const view: ConsentView = {
  request_id: 'req-1',
  client: { id: 'pos', name: 'Corner Shop POS', logo_uri: 'https://shop.example/logo.png' },
  binding_message: 'Pay 50 EUR',
  scopes: [
    { name: 'openid', display_name: 'Sign you in' },
    { name: 'payments', display_name: 'Make payments', description: 'Pay from your account' },
  ],
  authorization_details: [{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '50.00' } }],
  created_at: '2026-01-01T12:00:00.000Z',
  expires_at: '2026-01-01T12:02:00.000Z',
};

/** The same view with its keys, at every level, in the reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([key, field]) => [key, reversedKeys(field)]));
}

describe('consentHash', () => {
  it('is base64url(SHA-256) of the RFC 8785 canonical JSON', () => {
    const expected = createHash('sha256').update(canonicalize(view) ?? '').digest('base64url');
    expect(consentHash(view)).toBe(expected);
    expect(consentHash(view)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('does not depend on the order of keys', () => {
    const reordered = reversedKeys(view) as ConsentView;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(view));
    expect(consentHash(reordered)).toBe(consentHash(view));
  });

  const changes: Array<[string, (v: ConsentView) => void]> = [
    ['request_id', (v) => (v.request_id = 'req-2')],
    ['client id', (v) => (v.client.id = 'other')],
    ['client name', (v) => (v.client.name = 'Corner Shop P0S')],
    ['client logo', (v) => (v.client.logo_uri = 'https://evil.example/logo.png')],
    ['binding message', (v) => (v.binding_message = 'Pay 500 EUR')],
    ['binding message removed', (v) => delete v.binding_message],
    ['a scope name', (v) => (v.scopes[0]!.name = 'email')],
    ['a scope display name', (v) => (v.scopes[1]!.display_name = 'Read balances')],
    ['a scope description', (v) => (v.scopes[1]!.description = 'Pay from any account')],
    ['an added scope', (v) => v.scopes.push({ name: 'accounts' })],
    ['the order of scopes', (v) => v.scopes.reverse()],
    ['authorization details', (v) => (v.authorization_details = [{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '5000.00' } }])],
    ['created_at', (v) => (v.created_at = '2026-01-01T12:00:01.000Z')],
    ['expires_at', (v) => (v.expires_at = '2026-01-01T13:02:00.000Z')],
  ];

  it.each(changes)('changes when the %s changes', (_what, change) => {
    const changed = structuredClone(view);
    change(changed);
    expect(consentHash(changed)).not.toBe(consentHash(view));
  });
});

describe('buildConsentView', () => {
  const request: AuthenticationRequest = {
    requestId: 'req-1',
    partition: 'abcdefgh',
    loginId: 'login-1',
    loginState: 'secret-state',
    userId: 'alice',
    userIdentifier: 'alice',
    clientId: 'pos',
    bindingMessage: 'Pay 50 EUR',
    requestedScopes: [{ name: 'openid' }, { name: 'payments' }],
    createdAt: Date.parse('2026-01-01T12:00:00.000Z'),
    expiresAt: Date.parse('2026-01-01T12:02:00.000Z'),
    status: 'pending',
    deliveries: [],
  };

  it('describes the requested scopes with the authorization server details, and never shows login state', () => {
    const built = buildConsentView(request, {
      client: { name: 'Corner Shop POS', logo_uri: 'https://shop.example/logo.png' },
      scopes: [{ name: 'payments', display_name: 'Make payments' }, { name: 'unrequested', display_name: 'Not asked for' }],
    });
    expect(built).toEqual({
      request_id: 'req-1',
      client: { id: 'pos', name: 'Corner Shop POS', logo_uri: 'https://shop.example/logo.png' },
      binding_message: 'Pay 50 EUR',
      scopes: [{ name: 'openid' }, { name: 'payments', display_name: 'Make payments' }],
      created_at: '2026-01-01T12:00:00.000Z',
      expires_at: '2026-01-01T12:02:00.000Z',
    });
    expect(JSON.stringify(built)).not.toContain('secret-state');
  });

  it('hashes the same whatever the details were listed as', () => {
    const a = buildConsentView(request, { scopes: [{ name: 'payments', display_name: 'Make payments' }] });
    const b = buildConsentView(request, { scopes: [{ display_name: 'Make payments', name: 'payments' }] });
    expect(consentHash(a)).toBe(consentHash(b));
  });
});
