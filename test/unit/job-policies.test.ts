import { jobPolicies, retryDelayMs, type RetryPolicy } from '../../src/workers/job-policies.js';

const policy: RetryPolicy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };
const lowest = (): number => 0;
const highest = (): number => 0.999_999;
const middle = (): number => 0.5;

/** base · 2^(failedAttempts − 1), capped at the policy's maximum. */
const cappedExponential = (failedAttempts: number): number => Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));

describe('retryDelayMs', () => {
  it.each([1, 2, 3, 4, 5, 8, 20])('after %i failed attempt(s) stays within [half, full] of the capped exponential', (failed) => {
    const full = cappedExponential(failed);
    for (const random of [lowest, middle, highest]) {
      const delay = retryDelayMs(policy, failed, undefined, random);
      expect(delay).toBeGreaterThanOrEqual(full / 2);
      expect(delay).toBeLessThanOrEqual(full);
    }
  });

  it('is half the exponential with no jitter and grows with the random share', () => {
    expect(retryDelayMs(policy, 3, undefined, lowest)).toBe(200);
    expect(retryDelayMs(policy, 3, undefined, middle)).toBe(300);
    expect(retryDelayMs(policy, 3, undefined, highest)).toBe(400);
  });

  it('doubles with each failed attempt until the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((failed) => retryDelayMs(policy, failed, undefined, lowest));
    expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('never exceeds the cap, even after many attempts', () => {
    expect(retryDelayMs(policy, 200, undefined, highest)).toBeLessThanOrEqual(policy.maxDelayMs);
  });

  it('treats zero failed attempts like the first', () => {
    expect(retryDelayMs(policy, 0, undefined, lowest)).toBe(retryDelayMs(policy, 1, undefined, lowest));
  });

  it('honours a requested delay as a floor', () => {
    expect(retryDelayMs(policy, 1, 5_000, highest)).toBe(5_000);
  });

  it('ignores a requested delay shorter than the backoff', () => {
    expect(retryDelayMs(policy, 4, 10, lowest)).toBe(400);
  });

  it('uses Math.random when no random source is given', () => {
    const delay = retryDelayMs(policy, 2);
    expect(delay).toBeGreaterThanOrEqual(100);
    expect(delay).toBeLessThanOrEqual(200);
  });
});

describe('jobPolicies', () => {
  it('gives every job but the periodic sweep at least one retry, and a cap no lower than its base delay', () => {
    // The expiry sweep is run again by its scheduler every interval, so a retry would only overlap it.
    expect(jobPolicies['sweep-expired'].attempts).toBe(1);
    for (const [name, jobPolicy] of Object.entries(jobPolicies)) {
      if (name !== 'sweep-expired') expect(jobPolicy.attempts).toBeGreaterThan(1);
      expect(jobPolicy.maxDelayMs).toBeGreaterThanOrEqual(jobPolicy.baseDelayMs);
    }
  });
});
