import type { RateMinute } from '@cuekit/protocol'
import { describe, expect, it } from 'vitest'
import { buckets, isWindow, summarize, WINDOWS } from '../../client/activity.ts'
import { Backoff } from '../../client/backoff.ts'
import {
  countdown,
  dateTime,
  duration,
  isoUtc,
  percent,
  rate,
  relative,
  safeUrl,
  weekday,
  zoneName,
} from '../../client/format.ts'
import { SseParser } from '../../client/sse.ts'

// The dashboard's DOM-free logic: the event-stream parser, backoff, activity bars and time text.

describe('SseParser', () => {
  it('parses what the server writes: named events with data and id, keep-alive comments', () => {
    const p = new SseParser()
    const text =
      'event: ready\ndata: {"tenant_id":"t1"}\n\n: keep-alive\n\n' +
      'event: execution\ndata: {"execution_id":"e1"}\nid: e1:2026\n\n'
    expect(p.push(text)).toEqual([
      { event: 'ready', data: '{"tenant_id":"t1"}', id: null },
      { event: 'execution', data: '{"execution_id":"e1"}', id: 'e1:2026' },
    ])
  })

  it('reassembles events split anywhere across chunks, CRLF included', () => {
    const whole = 'event: execution\r\ndata: a\r\ndata: b\r\n\r\ndata: plain\n\n'
    for (let cut = 1; cut < whole.length; cut++) {
      const p = new SseParser()
      const out = [...p.push(whole.slice(0, cut)), ...p.push(whole.slice(cut))]
      expect(out, `cut at ${cut}`).toEqual([
        { event: 'execution', data: 'a\nb', id: null },
        { event: 'message', data: 'plain', id: null },
      ])
    }
  })

  it('ignores events without data and unknown fields', () => {
    const p = new SseParser()
    expect(p.push('event: nothing\n\nretry: 100\nfoo: bar\ndata:x\n\n')).toEqual([
      { event: 'message', data: 'x', id: null },
    ])
  })
})

describe('Backoff', () => {
  it('doubles from the base to the cap, with bounded jitter, and resets', () => {
    const mid = new Backoff(1000, 30_000, () => 0.5)
    expect([1, 2, 3, 4, 5, 6, 7].map(() => mid.next())).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ])
    mid.reset()
    expect(mid.next()).toBe(1000)
    const low = new Backoff(1000, 30_000, () => 0)
    const high = new Backoff(1000, 30_000, () => 0.999)
    expect(low.next()).toBe(800)
    expect(high.next()).toBeLessThanOrEqual(1200)
    for (let i = 0; i < 10; i++) expect(high.next()).toBeLessThanOrEqual(30_000)
  })
})

describe('activity per minute (GET /v1/stats/rates)', () => {
  const t0 = Date.parse('2026-01-01T10:00:00Z')
  /** `counts` claims per minute, the last minute starting at t0. */
  const minutes = (counts: number[]): RateMinute[] =>
    counts.map((claims, i) => ({
      at: new Date(t0 - (counts.length - 1 - i) * 60_000).toISOString(),
      enqueues: 0,
      claims,
      completions: 0,
      failures: claims > 0 ? 1 : 0,
      reclaims: 0,
    }))

  it('draws one bar a minute, the current one counting only the seconds that have passed', () => {
    const bars = buckets(minutes([0, 60, 30]), 'claims', 1, t0 + 15_000)
    expect(bars.map((b) => [b.count, b.seconds, b.current])).toEqual([
      [0, 60, false],
      [60, 60, false],
      [30, 15, true],
    ])
    expect(bars[2]!.start).toBe(t0)
  })

  it('sums ten-minute bars on the clock over 24 hours, the first and last ones partial', () => {
    // 10:00 is the current minute: 09:56..09:59 make a partial bar, 10:00 starts the next.
    const bars = buckets(minutes([1, 2, 3, 4, 5]), 'claims', 10, t0 + 30_000)
    expect(bars.map((b) => [new Date(b.start).toISOString(), b.count, b.seconds, b.current])).toEqual([
      ['2026-01-01T09:50:00.000Z', 10, 240, false],
      ['2026-01-01T10:00:00.000Z', 5, 30, true],
    ])
  })

  it('says now (over the previous minute and this one so far), the busiest minute and the total', () => {
    const s = summarize(minutes([0, 120, 60, 30]), 'claims', t0 + 30_000)
    // (60 + 30) claims in 60 + 30 seconds.
    expect(s).toEqual({ total: 210, now: 1, nowSeconds: 90, peakCount: 120, peak: 2 })
    expect(summarize(minutes([0, 120, 60, 30]), 'failures', t0 + 30_000).total).toBe(3)
    // Nothing yet: zeros, not NaN.
    expect(summarize([], 'claims', t0)).toEqual({ total: 0, now: 0, nowSeconds: 0, peakCount: 0, peak: 0 })
    // A burst half a minute in: 120 in 90 s is more per second than either whole minute's 60.
    expect(summarize(minutes([60, 60]), 'claims', t0 + 30_000)).toMatchObject({ now: 4 / 3, peak: 4 / 3 })
  })

  it('knows the windows the API answers for, and nothing else', () => {
    expect(Object.keys(WINDOWS)).toEqual(['15m', '1h', '24h'])
    expect(['15m', '1h', '24h', '2h', '', null, 'toString'].map(isWindow)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ])
  })
})

describe('time text', () => {
  it('durations, countdowns and relative times', () => {
    expect(duration(850)).toBe('850 ms')
    expect(duration(42_000)).toBe('42s')
    expect(duration(185_000)).toBe('3m 05s')
    expect(duration(3_720_000)).toBe('1h 02m')
    expect(duration(50 * 3_600_000)).toBe('2d 2h')
    expect(countdown(89_100)).toBe('in 1m 30s')
    expect(countdown(400)).toBe('in 1s')
    expect(countdown(-300)).toBe('expired just now')
    expect(countdown(-4200)).toBe('expired 4s ago')
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(relative('2026-01-01T00:00:00.400Z', now)).toBe('just now')
    expect(relative('2025-12-31T23:59:48Z', now)).toBe('12s ago')
    expect(relative('2026-01-01T00:03:00Z', now)).toBe('in 3m 00s')
    expect(rate(0)).toBe('0/s')
    expect(rate(0.05)).toBe('0.05/s')
    expect(rate(2.34)).toBe('2.3/s')
    expect(rate(123.4)).toBe('123/s')
    // Rounded once: not 0.10/s next to a peak of 0.1/s, nor 10.0/s.
    expect(rate(0.0999)).toBe('0.1/s')
    expect(rate(9.96)).toBe('10/s')
  })
})

describe('the one time format', () => {
  it('is date, time to the second and the zone named, in the zone asked for', () => {
    expect(dateTime('2026-11-27T15:21:21Z', 'Europe/Paris')).toBe('2026-11-27 16:21:21 CET')
    expect(dateTime('2026-07-01T12:00:00.123Z', 'Europe/Paris')).toBe('2026-07-01 14:00:00 CEST')
    expect(dateTime('2026-11-27T15:21:21Z', 'America/New_York')).toBe('2026-11-27 10:21:21 EST')
    expect(dateTime('2026-07-01T12:00:00Z', 'Europe/London')).toBe('2026-07-01 13:00:00 BST')
    expect(dateTime('2026-11-27T15:21:21Z', 'UTC')).toBe('2026-11-27 15:21:21 UTC')
    // No English abbreviation: the offset, never a name two zones share.
    expect(dateTime('2026-11-27T15:21:21Z', 'Asia/Tokyo')).toBe('2026-11-28 00:21:21 GMT+9')
    expect(dateTime('2026-11-27T15:21:21Z', 'Asia/Kolkata')).toBe('2026-11-27 20:51:21 GMT+5:30')
    // Midnight is 00, not 24; an unknown zone falls back to UTC and says so.
    expect(dateTime('2026-11-27T23:00:00Z', 'Europe/Paris')).toBe('2026-11-28 00:00:00 CET')
    expect(dateTime('2026-11-27T15:21:21Z', 'Mars/Olympus')).toBe('2026-11-27 15:21:21 UTC')
    expect(dateTime('not a time')).toBe('not a time')
  })

  it("uses the viewer's zone when none is given", () => {
    const t = '2026-11-27T15:21:21Z'
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
    expect(dateTime(t)).toBe(dateTime(t, zone))
    expect(dateTime(t)).toMatch(/^2026-11-2[78] \d\d:\d\d:21 \S+$/)
    expect(zoneName(Date.parse(t), 'UTC')).toBe('UTC')
  })

  it('hovers as ISO 8601 UTC, and names the weekday in a zone', () => {
    expect(isoUtc('2026-11-27T16:21:21+01:00')).toBe('2026-11-27T15:21:21.000Z')
    expect(isoUtc('garbage')).toBe('garbage')
    expect(weekday('2026-11-27T23:30:00Z', 'Europe/Paris')).toBe('Sat')
    expect(weekday('2026-11-27T23:30:00Z', 'UTC')).toBe('Fri')
  })
})

describe('outcome evidence and cue stats', () => {
  it('links a result URL only when it is http(s)', () => {
    expect(safeUrl('https://mail.example.com/sent/4711')?.href).toBe('https://mail.example.com/sent/4711')
    expect(safeUrl('http://example.com')?.href).toBe('http://example.com/')
    for (const unsafe of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      'file:///etc/passwd',
      '/relative/path',
      'not a url',
    ])
      expect(safeUrl(unsafe), unsafe).toBeNull()
  })

  it('writes a success rate as a percentage with at most one decimal', () => {
    expect([1, 0, 0.5, 2 / 3, 0.999].map(percent)).toEqual(['100%', '0%', '50%', '66.7%', '99.9%'])
  })
})
