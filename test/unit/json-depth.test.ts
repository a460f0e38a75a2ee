import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/http/middleware/json-depth.js';

const arrays = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
const objects = (depth: number): unknown => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

describe('JSON depth limit', () => {
  it('counts each object or array as one level; scalars add none', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({ a: [1, { b: 'c' }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: 'c' }] }, 2)).toBe(true);
  });

  it.each([arrays, objects])('accepts exactly MAX_JSON_DEPTH levels and refuses one more (%p)', (make) => {
    expect(nestsDeeperThan(make(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(make(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
  });

  it('walks a value nested far deeper than the stack would allow a recursive walk', () => {
    const deep = arrays(200_000);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(nestsDeeperThan(deep, MAX_JSON_DEPTH)).toBe(true);
  });

  it('finds the deep branch among wide shallow ones', () => {
    const body = { wide: Array.from({ length: 10_000 }, (_, index) => ({ index })), deep: objects(MAX_JSON_DEPTH) };
    expect(nestsDeeperThan(body, MAX_JSON_DEPTH)).toBe(true);
  });
});
