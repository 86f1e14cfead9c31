import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { blockedReason, checkWebhookUrl, type Resolver, sendWebhook } from '@cuekit/server'
import { describe, expect, it } from 'vitest'

// The SSRF guard (docs/architecture.md#webhooks): every refused address class, literal and behind a name, in IPv4
// and IPv6 spellings, and a delivery that really connects to the checked address.

describe('blockedReason', () => {
  const refused: [string, RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['169.254.0.1', /link-local/],
    ['100.64.0.1', /CGNAT/],
    ['100.100.100.200', /CGNAT/],
    ['0.0.0.0', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.251', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['192.0.0.192', /IETF/],
    ['198.18.0.1', /benchmarking/],
    ['192.0.2.1', /documentation/],
    ['168.63.129.16', /metadata/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['0:0:0:0:0:0:0:1', /loopback/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fc00::1', /unique local/],
    ['fd00:ec2::254', /unique local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /IPv4-mapped loopback/],
    ['::ffff:7f00:1', /IPv4-mapped loopback/],
    ['::ffff:169.254.169.254', /IPv4-mapped link-local/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped link-local/],
    ['::ffff:10.0.0.1', /IPv4-mapped private/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['::a9fe:a9fe', /IPv4-compatible/],
    ['64:ff9b::169.254.169.254', /NAT64 link-local/],
    ['64:ff9b::a00:1', /NAT64 private/],
    ['2002:7f00:1::', /6to4 loopback/],
    ['2002:a9fe:a9fe::1', /6to4 link-local/],
    ['2001:db8::1', /documentation/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/],
    ['fec0::1', /site-local/],
  ]
  it.each(refused)('refuses %s', (ip, reason) => {
    expect(blockedReason(ip)).toMatch(reason)
  })

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows the public address %s', (ip) => {
    expect(blockedReason(ip)).toBeNull()
  })
})

describe('checkWebhookUrl', () => {
  const fakeDns =
    (answers: Record<string, string[]>): Resolver =>
    async (host) => {
      const a = answers[host]
      if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
      return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
    }
  const resolve = fakeDns({
    'public.example': ['93.184.216.34'],
    'metadata.example': ['169.254.169.254'],
    'mixed.example': ['93.184.216.34', '10.0.0.5'],
    'v6.example': ['2606:4700::1', 'fd00:ec2::254'],
  })

  it('refuses literals and names that resolve to refused addresses, any one of them', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://2130706433/', // 127.0.0.1 as one decimal number
      'http://0x7f.1/',
      'http://metadata.example/',
      'https://mixed.example/hook',
      'https://v6.example/hook',
    ]) {
      await expect(checkWebhookUrl(url, { allowPrivate: false, resolve }), url).rejects.toMatchObject({
        name: 'WebhookUrlError',
        unresolved: false,
      })
    }
  })

  it('allows public addresses, reports names that do not resolve, refuses credentials and other schemes', async () => {
    expect(await checkWebhookUrl('https://public.example/x', { allowPrivate: false, resolve })).toEqual([
      { address: '93.184.216.34', family: 4 },
    ])
    await expect(
      checkWebhookUrl('https://nowhere.example/', { allowPrivate: false, resolve }),
    ).rejects.toMatchObject({
      unresolved: true,
    })
    await expect(
      checkWebhookUrl('https://u:p@public.example/', { allowPrivate: false, resolve }),
    ).rejects.toThrow(/credentials/)
    await expect(checkWebhookUrl('ftp://public.example/', { allowPrivate: false, resolve })).rejects.toThrow(
      /http/,
    )
  })

  it('allowPrivate lifts the refusal (dev and tests)', async () => {
    expect(await checkWebhookUrl('http://metadata.example/', { allowPrivate: true, resolve })).toHaveLength(1)
  })
})

describe('sendWebhook', () => {
  it('connects to the checked address, not to what the name resolves to later', async () => {
    const server = createServer((req, res) => res.end(`hello ${req.headers.host}`))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    try {
      let calls = 0
      // A rebinding resolver: the check sees 127.0.0.1; any later lookup would get elsewhere.
      const rebinding: Resolver = async () => {
        calls += 1
        return [{ address: calls === 1 ? '127.0.0.1' : '10.9.9.9', family: 4 }]
      }
      const ok = await sendWebhook({
        url: `http://rebind.example:${port}/hook`,
        method: 'POST',
        headers: {},
        body: '{}',
        timeoutMs: 5000,
        allowPrivate: true,
        resolve: rebinding,
      })
      expect(ok).toMatchObject({ ok: true, status: 200, responseBody: `hello rebind.example:${port}` })
      expect(calls).toBe(1)
      const refused = await sendWebhook({
        url: `http://127.0.0.1:${port}/hook`,
        method: 'POST',
        headers: {},
        body: '{}',
        timeoutMs: 5000,
        allowPrivate: false,
      })
      expect(refused).toMatchObject({ ok: false, status: null })
      expect(refused.error).toMatch(/loopback/)
    } finally {
      server.close()
    }
  })
})
