import { normalizeRequestedScopes } from '../../src/domain/scopes.js';

describe('normalizeRequestedScopes', () => {
  it('takes requested_scopes given as strings', () => {
    expect(normalizeRequestedScopes({ requested_scopes: ['openid', 'profile'] })).toEqual([{ name: 'openid' }, { name: 'profile' }]);
  });

  it('takes requested_scopes given as objects, keeping display name and description', () => {
    expect(
      normalizeRequestedScopes({
        requested_scopes: [{ name: 'openid' }, { name: 'payments', display_name: 'Make payments', description: 'Pay from your account' }],
      }),
    ).toEqual([{ name: 'openid' }, { name: 'payments', display_name: 'Make payments', description: 'Pay from your account' }]);
  });

  it('takes a scopes array', () => {
    expect(normalizeRequestedScopes({ scopes: ['openid', 'email'] })).toEqual([{ name: 'openid' }, { name: 'email' }]);
  });

  it('splits a space-separated scope, ignoring extra whitespace', () => {
    expect(normalizeRequestedScopes({ scope: '  openid   accounts\temail ' })).toEqual([
      { name: 'openid' },
      { name: 'accounts' },
      { name: 'email' },
    ]);
  });

  it('is empty when no scope is given', () => {
    expect(normalizeRequestedScopes({})).toEqual([]);
    expect(normalizeRequestedScopes({ scope: '' })).toEqual([]);
  });

  it('merges the three forms in order: requested_scopes, scopes, then scope', () => {
    expect(normalizeRequestedScopes({ scope: 'c', scopes: ['b'], requested_scopes: ['a'] }).map((s) => s.name)).toEqual(['a', 'b', 'c']);
  });

  it('lists a scope named several times once, where it first appeared', () => {
    expect(
      normalizeRequestedScopes({ requested_scopes: ['openid', 'profile', 'openid'], scopes: ['profile'], scope: 'openid email' }).map(
        (s) => s.name,
      ),
    ).toEqual(['openid', 'profile', 'email']);
  });

  it('keeps the richest description of a duplicate, whichever occurrence carries it', () => {
    expect(
      normalizeRequestedScopes({
        requested_scopes: [
          'openid',
          { name: 'openid', display_name: 'Sign you in' },
          { name: 'profile', display_name: 'Your profile' },
          { name: 'profile', description: 'Name and picture' },
        ],
        scope: 'profile',
      }),
    ).toEqual([
      { name: 'openid', display_name: 'Sign you in' },
      { name: 'profile', display_name: 'Your profile', description: 'Name and picture' },
    ]);
  });

  it('keeps the first description when two occurrences disagree', () => {
    expect(
      normalizeRequestedScopes({ requested_scopes: [{ name: 'openid', display_name: 'First' }, { name: 'openid', display_name: 'Second' }] }),
    ).toEqual([{ name: 'openid', display_name: 'First' }]);
  });

  it('trims names and drops blank ones', () => {
    expect(normalizeRequestedScopes({ requested_scopes: [' openid ', '  '], scopes: ['openid'] })).toEqual([{ name: 'openid' }]);
  });
});
