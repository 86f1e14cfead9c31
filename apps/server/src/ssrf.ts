import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/**
 * The SSRF guard (docs/architecture.md#webhooks): webhook URLs may not reach private, loopback, link-local, multicast,
 * reserved or cloud-metadata addresses, whether written literally or behind a name. A delivery
 * connects to the very address that was checked (see `lookupFor`), so a name that re-resolves
 * elsewhere between check and connect (DNS rebinding) changes nothing.
 */

type Range = { bytes: number[]; bits: number; reason: string }

function v4(cidr: string, reason: string): Range {
  const [addr, bits] = cidr.split('/')
  return { bytes: parseV4(addr!)!, bits: Number(bits), reason }
}

function v6(cidr: string, reason: string): Range {
  const [addr, bits] = cidr.split('/')
  return { bytes: parseV6(addr!)!, bits: Number(bits), reason }
}

const V4_BLOCKED: Range[] = [
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'shared address space (CGNAT)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local (cloud metadata)'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'IETF protocol assignments'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', '6to4 relay anycast'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('255.255.255.255/32', 'broadcast'),
  v4('240.0.0.0/4', 'reserved'),
  // Public addresses that are cloud metadata or host agents, not the internet.
  v4('168.63.129.16/32', 'cloud metadata (Azure)'),
]

const V6_BLOCKED: Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('::/96', 'IPv4-compatible (deprecated)'),
  v6('64:ff9b:1::/48', 'NAT64 local use'),
  v6('100::/64', 'discard-only'),
  v6('2001::/32', 'Teredo'),
  v6('2001:db8::/32', 'documentation'),
  v6('fc00::/7', 'unique local (private; includes fd00:ec2::254 metadata)'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local (deprecated)'),
  v6('ff00::/8', 'multicast'),
]

function parseV4(s: string): number[] | null {
  const parts = s.split('.')
  if (parts.length !== 4) return null
  const out = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN))
  return out.every((n) => n >= 0 && n <= 255) ? out : null
}

/** 16 bytes of an IPv6 address (zone id dropped, embedded dotted quad allowed), or null. */
function parseV6(input: string): number[] | null {
  let s = input.split('%')[0]!.toLowerCase()
  let tail: number[] = []
  const lastColon = s.lastIndexOf(':')
  if (s.slice(lastColon + 1).includes('.')) {
    const quad = parseV4(s.slice(lastColon + 1))
    if (!quad) return null
    tail = quad
    s = `${s.slice(0, lastColon + 1)}0:0`
  }
  const halves = s.split('::')
  if (halves.length > 2) return null
  const group = (part: string) => (part === '' ? [] : part.split(':'))
  const head = group(halves[0]!)
  const rest = halves.length === 2 ? group(halves[1]!) : []
  const missing = 8 - head.length - rest.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...rest]
  const bytes: number[] = []
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null
    const n = Number.parseInt(g, 16)
    bytes.push(n >> 8, n & 0xff)
  }
  if (tail.length) bytes.splice(12, 4, ...tail)
  return bytes
}

function inRange(bytes: number[], r: Range): boolean {
  let bits = r.bits
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((bytes[i]! & mask) !== (r.bytes[i]! & mask)) return false
  }
  return true
}

function v4Reason(bytes: number[]): string | null {
  return V4_BLOCKED.find((r) => inRange(bytes, r))?.reason ?? null
}

/**
 * Why an IP address may not be a webhook target, or null when it may. IPv6 forms that carry an
 * IPv4 address (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`) are
 * judged by that IPv4 address.
 */
export function blockedReason(ip: string): string | null {
  const family = isIP(ip.split('%')[0]!)
  if (family === 4) {
    const reason = v4Reason(parseV4(ip)!)
    return reason
  }
  if (family !== 6) return 'not an IP address'
  const b = parseV6(ip)
  if (!b) return 'not an IP address'
  const isZero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0)
  if (isZero(0, 10) && b[10] === 0xff && b[11] === 0xff) {
    const reason = v4Reason(b.slice(12))
    return reason && `IPv4-mapped ${reason}`
  }
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && isZero(4, 12)) {
    const reason = v4Reason(b.slice(12))
    return reason && `NAT64 ${reason}`
  }
  if (b[0] === 0x20 && b[1] === 0x02) {
    const reason = v4Reason(b.slice(2, 6))
    return reason && `6to4 ${reason}`
  }
  return V6_BLOCKED.find((r) => inRange(b, r))?.reason ?? null
}

export interface CheckedAddress {
  address: string
  family: 4 | 6
}

export class WebhookUrlError extends Error {
  override readonly name = 'WebhookUrlError'
  constructor(
    message: string,
    /** The host did not resolve: not an SSRF attempt, maybe a typo or a DNS outage. */
    readonly unresolved = false,
  ) {
    super(message)
  }
}

export type Resolver = (host: string) => Promise<CheckedAddress[]>

const RESOLVE_TIMEOUT_MS = 5000

const systemResolver: Resolver = async (host) => {
  let timer: NodeJS.Timeout | undefined
  // A stalled resolver must not hold a request (or a delivery slot) for its full retry cycle.
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('DNS lookup timed out'), { code: 'ETIMEOUT' })),
      RESOLVE_TIMEOUT_MS,
    )
  })
  try {
    const all = await Promise.race([dnsLookup(host, { all: true, verbatim: true }), timeout])
    return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Resolves a webhook URL's host and checks every address it resolves to (one bad address is
 * enough to refuse: the connection might use it). Returns the addresses to connect to.
 * Throws WebhookUrlError.
 */
export async function checkWebhookUrl(
  url: string,
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<CheckedAddress[]> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new WebhookUrlError('The webhook URL is not a valid URL.')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WebhookUrlError('The webhook URL must use http or https.')
  }
  if (parsed.username || parsed.password) {
    throw new WebhookUrlError('The webhook URL must not carry credentials; send them in callback.headers.')
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
  let addresses: CheckedAddress[]
  const literal = isIP(host)
  if (literal) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }]
  } else {
    try {
      addresses = await (options.resolve ?? systemResolver)(host)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error'
      throw new WebhookUrlError(`The webhook host ${host} did not resolve (${code}).`, true)
    }
    if (addresses.length === 0) throw new WebhookUrlError(`The webhook host ${host} did not resolve.`, true)
  }
  if (!options.allowPrivate) {
    for (const a of addresses) {
      const reason = blockedReason(a.address)
      if (reason) {
        throw new WebhookUrlError(
          literal
            ? `The webhook URL points at a ${reason} address (${a.address}).`
            : `The webhook host ${host} resolves to a ${reason} address (${a.address}).`,
        )
      }
    }
  }
  return addresses
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void

/**
 * A `lookup` for http.request that answers with the checked address only, so the socket connects
 * exactly where the guard looked (Node asks with `all: true` when it races address families).
 */
export function lookupFor(checked: CheckedAddress) {
  return (_host: string, options: { all?: boolean }, callback: LookupCallback): void => {
    if (options?.all) callback(null, [{ address: checked.address, family: checked.family }])
    else callback(null, checked.address, checked.family)
  }
}
