import { addressKey, tooManyRequests } from '../../src/http/middleware/rate-limits.js';

describe('addressKey: what a source address is counted under', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::a', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    [undefined, 'unknown'],
  ])('%p → %p', (ip, key) => {
    expect(addressKey(ip)).toBe(key);
  });

  it('counts the addresses of one IPv6 /64 together and those of neighbouring /64s apart', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
  });
});

describe('tooManyRequests', () => {
  it.each([
    [1, '1'],
    [999, '1'],
    [1000, '1'],
    [1001, '2'],
    [59_500, '60'],
    [0, '1'],
  ])('%p ms left → Retry-After %p whole seconds', (ms, header) => {
    const error = tooManyRequests('too many', ms);
    expect(error).toMatchObject({ status: 429, code: 'too_many_requests', headers: { 'retry-after': header } });
    expect(error.description).toBe(`too many; retry in ${header} s`);
  });
});
