/** Text for the dashboard's times and durations; plain functions so they are easy to test. */

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

/** A rate with a sensible number of digits. */
export function rate(perSecond: number): string {
  if (perSecond === 0) return '0/s'
  if (perSecond < 0.1) return `${perSecond.toFixed(2)}/s`
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`
  return `${Math.round(perSecond)}/s`
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/**
 * A date and time in `timeZone` (the viewer's when omitted), with the zone's name so a cue's
 * schedule reads as its author meant it. An unknown zone falls back to UTC.
 */
export function dateTime(iso: string, timeZone?: string): string {
  const key = timeZone ?? ''
  let f = formatters.get(key)
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'short',
        ...(timeZone ? { timeZone } : {}),
      })
    } catch {
      return dateTime(iso, 'UTC')
    }
    formatters.set(key, f)
  }
  const t = Date.parse(iso)
  return Number.isNaN(t) ? iso : f.format(t)
}

const clockFormat = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})
const dayFormat = new Intl.DateTimeFormat('en-GB', {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
})

/** For table cells: the time alone when it is today (viewer's zone), else day and minute. */
export function shortDateTime(iso: string, nowMs: number): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return iso
  const sameDay = new Date(t).toDateString() === new Date(nowMs).toDateString()
  return sameDay ? clockFormat.format(t) : dayFormat.format(t)
}

/** Pretty JSON for payloads and results. */
export function json(value: unknown): string {
  if (value === undefined) return '(none)'
  return JSON.stringify(value, null, 2)
}
