// "Remember this device" holds for the network a browser was on: an IPv4 /24, or an IPv6 /64.
import { describe, expect, it } from 'vitest';
import { networkOf } from './mfa-service.js';

describe('networkOf', () => {
  it('gives an IPv4 address its /24, mapped into IPv6 or not', () => {
    expect(networkOf('203.0.113.200')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:203.0.113.7')).toBe('203.0.113.0/24');
  });

  it('gives an IPv6 address its /64 however the text compresses it', () => {
    const same = ['2001:db8:0:1::5', '2001:db8::1:0:0:0:7', '2001:0db8:0000:0001:ffff::1', '2001:DB8:0:1:a:b:c:d'];
    for (const ip of same) expect(networkOf(ip), ip).toBe('2001:db8:0:1::/64');
    // Different /64s that the first four fields of the text used to confuse.
    expect(networkOf('2001::1:2')).not.toBe(networkOf('2001::1:2:3:4:5'));
    expect(networkOf('2001::1:2:3:4:5')).toBe('2001:0:0:1::/64');
    expect(networkOf('::1')).toBe('0:0:0:0::/64');
    expect(networkOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
