// SSRF refusals: every internal address form at registration, and after DNS resolution.
import { describe, expect, it } from 'vitest';
import { guardedLookup, isBlockedAddress, webhookTargetProblem, type LookupAddress } from '../../../src/events/webhooks/ssrf.js';

const refused = (url: string) => webhookTargetProblem(url, false);

describe('webhookTargetProblem (registration)', () => {
  it.each([
    ['loopback', 'https://127.0.0.1/h'],
    ['loopback elsewhere in 127/8', 'https://127.3.4.5/h'],
    ['short loopback', 'https://127.1/h'],
    ['decimal loopback', 'https://2130706433/h'],
    ['hex loopback', 'https://0x7f000001/h'],
    ['octal loopback', 'https://0177.0.0.1/h'],
    ['private 10/8', 'https://10.1.2.3/h'],
    ['private 172.16/12', 'https://172.20.0.1/h'],
    ['private 192.168/16', 'https://192.168.1.1/h'],
    ['link-local and metadata', 'https://169.254.169.254/latest/meta-data'],
    ['CGNAT', 'https://100.64.0.1/h'],
    ['multicast', 'https://224.0.0.1/h'],
    ['unspecified', 'https://0.0.0.0/h'],
    ['broadcast', 'https://255.255.255.255/h'],
    ['IPv6 loopback', 'https://[::1]/h'],
    ['IPv6 unspecified', 'https://[::]/h'],
    ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/h'],
    ['IPv4-mapped IPv6 metadata', 'https://[::ffff:169.254.169.254]/h'],
    ['IPv4-compatible IPv6', 'https://[::127.0.0.1]/h'],
    ['NAT64 of loopback', 'https://[64:ff9b::7f00:1]/h'],
    ['unique local', 'https://[fd12:3456::1]/h'],
    ['AWS IPv6 metadata', 'https://[fd00:ec2::254]/h'],
    ['IPv6 link-local', 'https://[fe80::1]/h'],
    ['IPv6 multicast', 'https://[ff02::1]/h'],
    ['localhost', 'https://localhost/h'],
    ['a .localhost name', 'https://api.localhost/h'],
    ['GCP metadata name', 'https://metadata.google.internal/computeMetadata/v1'],
    ['GCP metadata name, trailing dot', 'https://metadata.google.internal./x'],
    ['an .internal name', 'https://db.corp.internal/h'],
    ['a single-label name', 'https://intranet/h'],
  ])('refuses %s (%s)', (_label, url) => {
    expect(refused(url)).not.toBeNull();
  });

  it('refuses http, other schemes and credentials; accepts a public https URL', () => {
    expect(refused('http://example.com/h')).toMatch(/https/);
    expect(refused('ftp://example.com/h')).toMatch(/https/);
    expect(refused('https://user:pw@example.com/h')).toMatch(/credentials/);
    expect(refused('not a url')).toMatch(/valid URL/);
    expect(refused('https://hooks.example.com/h')).toBeNull();
    expect(refused('https://93.184.216.34/h')).toBeNull();
    expect(refused('https://[2606:4700::1111]/h')).toBeNull();
  });

  it('allows http and private targets with WEBHOOK_ALLOW_PRIVATE', () => {
    expect(webhookTargetProblem('http://127.0.0.1:8080/h', true)).toBeNull();
    expect(webhookTargetProblem('http://localhost/h', true)).toBeNull();
    expect(webhookTargetProblem('ftp://127.0.0.1/h', true)).not.toBeNull();
  });
});

describe('isBlockedAddress', () => {
  it('knows public from internal', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '::ffff:7f00:1', 'fd00:ec2::254', '100.100.100.200', 'not-an-ip']) expect(isBlockedAddress(a)).toBe(true);
    for (const a of ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) expect(isBlockedAddress(a)).toBe(false);
  });
});

describe('guardedLookup (delivery, after DNS)', () => {
  const fake = (addresses: LookupAddress[]) => (_h: string, cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => cb(null, addresses);
  const run = (lookup: ReturnType<typeof guardedLookup>, host: string) =>
    new Promise<{ err: Error | null; address: unknown }>((resolve) => lookup(host, {}, (err, address) => resolve({ err, address })));

  it('refuses a name when any address is internal (rebinding), and connects to the checked one', async () => {
    const mixed = await run(guardedLookup(false, fake([{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }])), 'evil.example');
    expect(mixed.err?.message).toMatch(/10\.0\.0\.5/);
    const ok = await run(guardedLookup(false, fake([{ address: '93.184.216.34', family: 4 }])), 'good.example');
    expect(ok).toEqual({ err: null, address: '93.184.216.34' });
    const mapped = await run(guardedLookup(false, fake([{ address: '::ffff:127.0.0.1', family: 6 }])), 'mapped.example');
    expect(mapped.err).not.toBeNull();
  });

  it('refuses localhost through the real resolver, and allows it when private targets are allowed', async () => {
    const refusedLocal = await run(guardedLookup(false), 'localhost');
    expect(refusedLocal.err?.message).toMatch(/refused: localhost resolves to/);
    const allowed = await run(guardedLookup(true), 'localhost');
    expect(allowed.err).toBeNull();
  });
});
