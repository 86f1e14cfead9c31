import { describe, expect, it } from 'vitest'
import { Backoff } from '../../client/backoff.ts'
import {
  countdown,
  dateTime,
  duration,
  isoUtc,
  rate,
  relative,
  weekday,
  zoneName,
} from '../../client/format.ts'
import { RateSeries } from '../../client/rates.ts'
import { SseParser } from '../../client/sse.ts'

// The dashboard's DOM-free logic: the event-stream parser, backoff, rate buckets and time text.

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

describe('RateSeries', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z')

  it('buckets events over a 15-minute window of 10 s buckets', () => {
    const r = new RateSeries()
    expect(r.bucketCount).toBe(90)
    r.add('claims', t0 + 1000)
    r.add('claims', t0 + 9999)
    r.add('claims', t0 + 10_000)
    r.add('completions', t0 + 10_500)
    const s = r.series('claims', t0 + 15_000)
    expect(s).toHaveLength(90)
    expect(s.slice(-2)).toEqual([2, 1])
    expect(r.summary('claims', t0 + 15_000)).toEqual({ current: 0.2, peak: 0.2, total: 3 })
    // Fifteen minutes later they have left the window.
    expect(r.summary('claims', t0 + 16 * 60_000).total).toBe(0)
  })

  it('turns sampled counter totals into counts, with no double counting around the stream', () => {
    const r = new RateSeries()
    r.addTotals({ claimed: 100, completed: 50 }, t0)
    expect(r.summary('claims', t0 + 20_000).total).toBe(0)
    r.addTotals({ claimed: 110, completed: 55 }, t0 + 5000)
    r.addTotals({ claimed: 90, completed: 55 }, t0 + 6000) // a worker was forgotten
    expect(r.summary('claims', t0 + 20_000).total).toBe(10)
    expect(r.summary('completions', t0 + 20_000).total).toBe(5)
    r.forgetTotals()
    r.addTotals({ claimed: 500, completed: 500 }, t0 + 7000)
    expect(r.summary('claims', t0 + 20_000).total).toBe(10)
  })

  it('survives a JSON round trip (sessionStorage) and refuses foreign shapes', () => {
    const r = new RateSeries()
    r.add('completions', t0, 4)
    const copy = new RateSeries()
    copy.load(JSON.parse(JSON.stringify(r)))
    expect(copy.series('completions', t0).at(-1)).toBe(4)
    const other = new RateSeries()
    other.load({ bucketMs: 60_000, buckets: { claims: [[t0, 5]] } })
    other.load('garbage')
    other.load(null)
    expect(other.summary('claims', t0).total).toBe(0)
  })

  it('prunes buckets older than the window', () => {
    const r = new RateSeries()
    r.add('claims', t0)
    r.prune(t0 + 60 * 60_000)
    expect(JSON.stringify(r)).not.toContain(String(t0))
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
