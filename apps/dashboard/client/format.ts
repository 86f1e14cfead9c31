/** Text for the dashboard's times, durations and rates; plain functions so they are easy to test. */

/** `1h 02m`, `3m 05s`, `42s`, `850 ms`. */
export function duration(ms: number): string {
  const abs = Math.abs(ms)
  if (abs < 1000) return `${Math.round(abs)} ms`
  const s = Math.floor(abs / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

/** The countdown to a lease's expiry: `in 42s`, or how long ago it expired. */
export function countdown(remainingMs: number): string {
  if (remainingMs > 0) return `in ${duration(Math.ceil(remainingMs / 1000) * 1000)}`
  if (remainingMs > -1000) return 'expired just now'
  return `expired ${duration(-remainingMs)} ago`
}

/** `12s ago`, `in 3m 00s`, relative to `nowMs`. */
export function relative(iso: string, nowMs: number): string {
  const delta = Date.parse(iso) - nowMs
  if (Math.abs(delta) < 1000) return 'just now'
  return delta > 0 ? `in ${duration(delta)}` : `${duration(delta)} ago`
}

/** A rate with a sensible number of digits (0.0999 reads 0.1/s, not 0.10/s). */
export function rate(perSecond: number): string {
  if (perSecond === 0) return '0/s'
  if (perSecond < 10) perSecond = Number(perSecond.toPrecision(2))
  if (perSecond < 0.1) return `${perSecond.toFixed(2)}/s`
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`
  return `${Math.round(perSecond)}/s`
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`
  let f = formatters.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options)
    formatters.set(key, f)
  }
  return f
}

/** Whether `timeZone` is an IANA zone this browser knows. */
export function knownTimeZone(timeZone: string): boolean {
  try {
    formatter('en-GB', { timeZone })
    return true
  } catch {
    return false
  }
}

/**
 * The zone's short name at that instant: an abbreviation where English has one (CET, CEST, EST,
 * UTC, BST), else the offset (GMT+9), so two readers never take the same text for different zones.
 */
export function zoneName(t: number, timeZone?: string): string {
  let fallback = ''
  // en-GB names Europe's zones, en-US America's; each gives the offset where it has no name.
  for (const locale of ['en-GB', 'en-US']) {
    const part = formatter(locale, { timeZoneName: 'short', ...(timeZone ? { timeZone } : {}) })
      .formatToParts(t)
      .find((p) => p.type === 'timeZoneName')?.value
    if (!part) continue
    if (!/^GMT[+\-−]/.test(part)) return part
    fallback ||= part
  }
  return fallback || 'UTC'
}

/**
 * The dashboard's one format for an instant: `2026-11-27 16:21:21 CET`, in `timeZone` (the
 * viewer's when omitted), with the zone named. An unknown zone falls back to UTC.
 */
export function dateTime(iso: string, timeZone?: string): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return iso
  const zone = timeZone && knownTimeZone(timeZone) ? timeZone : timeZone ? 'UTC' : undefined
  const parts = formatter('en-GB', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    ...(zone ? { timeZone: zone } : {}),
  }).formatToParts(t)
  const p = (type: Intl.DateTimeFormatPartTypes) => parts.find((x) => x.type === type)?.value ?? ''
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')} ${zoneName(t, zone)}`
}

/** The day of the week of an instant in `timeZone` (`Mon`), to check a cron's day fields by eye. */
export function weekday(iso: string, timeZone?: string): string {
  const t = Date.parse(iso)
  const zone = timeZone && knownTimeZone(timeZone) ? timeZone : timeZone ? 'UTC' : undefined
  return Number.isNaN(t)
    ? ''
    : formatter('en-GB', { weekday: 'short', ...(zone ? { timeZone: zone } : {}) }).format(t)
}

/** The exact instant for hovering: ISO 8601 in UTC with milliseconds. */
export function isoUtc(iso: string): string {
  const t = Date.parse(iso)
  return Number.isNaN(t) ? iso : new Date(t).toISOString()
}

/** Pretty JSON for payloads and results. */
export function json(value: unknown): string {
  if (value === undefined) return '(none)'
  return JSON.stringify(value, null, 2)
}

/** A rate between 0 and 1 as a percentage, one decimal unless whole: `66.7%`, `100%`. */
export function percent(rate: number): string {
  const p = rate * 100
  return `${Number.isInteger(p) ? p : p.toFixed(1)}%`
}

/** A URL from the API that may become a link: http(s) only, so `javascript:` or `data:` stays text. */
export function safeUrl(value: string): URL | null {
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null
  } catch {
    return null
  }
}
