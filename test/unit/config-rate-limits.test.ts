import express from 'express';
import { loadConfig, type TrustProxy } from '../../src/config/config.js';
import { problemsOf } from '../support/config-problems.js';

/** Whether express, given this `trust proxy` setting, believes a hop from `address` at position `hop`. */
function expressTrusts(setting: TrustProxy, address: string, hop = 0): boolean {
  const app = express();
  app.set('trust proxy', setting);
  const trusts = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  return trusts(address, hop);
}

describe('rate-limit settings', () => {
  it('defaults: 10 failed Basic and 10 failed admin authentications per address per 10 minutes; 600 calls a minute per device and per admin address', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      activation: { points: 10, durationSeconds: 600 },
      basicFailures: { points: 10, durationSeconds: 600 },
      adminFailures: { points: 10, durationSeconds: 600 },
      device: { points: 600, durationSeconds: 60 },
      admin: { points: 600, durationSeconds: 60 },
    });
  });

  it('reads each limit from its variable', () => {
    const config = loadConfig({
      RATE_LIMIT_BASIC_FAILURES: '3',
      RATE_LIMIT_ADMIN_FAILURES: '4',
      RATE_LIMIT_FAILURE_WINDOW_SECONDS: '120',
      RATE_LIMIT_DEVICE_PER_MINUTE: '100',
      RATE_LIMIT_ADMIN_PER_MINUTE: '50',
    });
    expect(config.rateLimits).toMatchObject({
      basicFailures: { points: 3, durationSeconds: 120 },
      adminFailures: { points: 4, durationSeconds: 120 },
      device: { points: 100, durationSeconds: 60 },
      admin: { points: 50, durationSeconds: 60 },
    });
  });

  it.each([
    ['RATE_LIMIT_BASIC_FAILURES', '0'],
    ['RATE_LIMIT_ADMIN_FAILURES', '-1'],
    ['RATE_LIMIT_FAILURE_WINDOW_SECONDS', '1.5'],
    ['RATE_LIMIT_DEVICE_PER_MINUTE', 'many'],
    ['RATE_LIMIT_ADMIN_PER_MINUTE', '0'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(problemsOf({ [name]: value }).join('\n')).toContain(name);
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.7', ['10.0.0.0/8', '192.168.1.7']],
    ['fd00::/8,::1,uniquelocal', ['fd00::/8', '::1', 'uniquelocal']],
  ])('%p → %p', (value, expected) => {
    expect(loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
  });

  it.each([
    ['true', /X-Forwarded-For/],
    ['proxy.example.com', /not an IP address/],
    ['10.0.0.0/33', /prefix length must be 0-32/],
    ['fd00::/129', /prefix length must be 0-128/],
    ['10.0.0.1/8/1', /not an IP address/],
    [',', /must be/],
  ])('refuses %p', (value, message) => {
    const problems = problemsOf({ TRUST_PROXY: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^TRUST_PROXY: /);
    expect(problems[0]).toMatch(message);
  });

  it('gives express settings it understands: off trusts nobody, a list trusts its members only, a count trusts that many hops', () => {
    const parsed = (value: string): TrustProxy => loadConfig({ TRUST_PROXY: value }).http.trustProxy;
    expect(expressTrusts(parsed('false'), '127.0.0.1')).toBe(false);
    expect(expressTrusts(parsed('10.0.0.0/8,loopback'), '10.1.2.3')).toBe(true);
    expect(expressTrusts(parsed('10.0.0.0/8,loopback'), '127.0.0.1')).toBe(true);
    expect(expressTrusts(parsed('10.0.0.0/8,loopback'), '192.0.2.1')).toBe(false);
    expect(expressTrusts(parsed('1'), '192.0.2.1', 0)).toBe(true);
    expect(expressTrusts(parsed('1'), '192.0.2.1', 1)).toBe(false);
  });
});
