import { type Child, h, uid } from './dom.ts'
import { countdown, dateTime, isoUtc, relative } from './format.ts'

export interface Column {
  label: string
  /** Right-aligned numbers. */
  numeric?: boolean
  /** Shown to screen readers only (a checkbox or actions column). */
  hiddenLabel?: boolean
  /** Replaces the label in the header cell (a select-all checkbox, say). */
  header?: Child
  /**
   * Hidden on phones, so the key columns fit the screen without scrolling; what it shows is also
   * on the row's own page.
   */
  secondary?: boolean
}

function columnClass(c: Column | undefined): string | null {
  return [c?.numeric ? 'num' : '', c?.secondary ? 'col-secondary' : ''].filter(Boolean).join(' ') || null
}

/**
 * A captioned table in a scrollable, focusable region, so on a phone it scrolls sideways on its
 * own (keyboard included) instead of widening the page, and its secondary columns are hidden so
 * the key ones fit. The first cell of a row is its header.
 */
export function table(options: {
  caption: Child
  columns: Column[]
  rows: { key: string; cells: Child[]; class?: string }[]
  empty: string
  id?: string
  /** Which cell names the row for screen readers (default the first). */
  rowHeader?: number
  /**
   * Its key columns alone fit a phone: there its cells wrap instead of scrolling sideways (a table
   * with more key columns than a phone holds keeps one-line rows and scrolls).
   */
  fitsPhone?: boolean
}): HTMLElement {
  const rowHeader = options.rowHeader ?? 0
  const captionId = uid('caption')
  const head = h(
    'tr',
    null,
    options.columns.map((c) =>
      h(
        'th',
        { scope: 'col', class: columnClass(c) },
        c.header ?? (c.hiddenLabel ? h('span', { class: 'visually-hidden' }, c.label) : c.label),
      ),
    ),
  )
  const body =
    options.rows.length === 0
      ? [h('tr', null, h('td', { colspan: options.columns.length, class: 'empty' }, options.empty))]
      : options.rows.map((row) =>
          h(
            'tr',
            { 'data-row': row.key, class: row.class ?? null },
            row.cells.map((cell, i) => {
              const cls = columnClass(options.columns[i])
              return i === rowHeader
                ? h('th', { scope: 'row', class: cls }, cell)
                : h('td', { class: cls }, cell)
            }),
          ),
        )
  return h(
    'div',
    {
      class: 'table-wrap',
      role: 'region',
      'aria-labelledby': captionId,
      tabindex: 0,
      id: options.id ?? null,
    },
    h(
      'table',
      { class: options.fitsPhone ? 'fits-phone' : null },
      h('caption', { id: captionId }, options.caption),
      h('thead', null, head),
      h('tbody', null, body),
    ),
  )
}

export function badge(value: string, kind = value): HTMLElement {
  return h('span', { class: `badge badge-${kind.replace(/[^a-z_-]/gi, '')}` }, value.replace(/_/g, ' '))
}

const none = (text = '—'): HTMLElement => h('span', { class: 'muted' }, text)

/**
 * An instant in the dashboard's one format: `2026-11-27 16:21:21 CET` in the viewer's zone (or a
 * cue's own `timeZone`), the zone always named, the exact ISO 8601 UTC instant on hover.
 */
export function time(iso: string | null | undefined, timeZone?: string, empty?: string): Child {
  if (!iso) return none(empty)
  const exact = isoUtc(iso)
  return h('time', { datetime: exact, title: exact }, dateTime(iso, timeZone))
}

/**
 * A time that ages (last heartbeat, last seen, due, failed): how long ago or until, kept current by
 * the page's ticker, above the instant itself in the one format.
 */
export function timeAgo(
  iso: string | null | undefined,
  nowMs: number,
  options: { timeZone?: string; prefix?: string; empty?: string } = {},
): Child {
  if (!iso) return none(options.empty)
  return h(
    'span',
    { class: 'when' },
    h(
      'span',
      { class: 'rel' },
      options.prefix ? `${options.prefix} ` : null,
      h('span', { 'data-relative': iso }, relative(iso, nowMs)),
    ),
    h('span', { class: 'abs' }, time(iso, options.timeZone)),
  )
}

/**
 * The countdown to a lease's expiry, which the page's ticker keeps current, above the instant. Past
 * expiry the text says so and the enclosing `.lease` element gets `expired`, so the state is not
 * told by colour alone.
 */
export function leaseCountdown(expiresIso: string, nowMs: number): HTMLElement {
  const remaining = Date.parse(expiresIso) - nowMs
  return h(
    'span',
    { class: 'when' },
    h('span', { class: 'countdown rel', 'data-expires': expiresIso }, countdownText(remaining)),
    h('span', { class: 'abs' }, time(expiresIso)),
  )
}

export function countdownText(remainingMs: number): string {
  return remainingMs > 0 ? countdown(remainingMs) : `${countdown(remainingMs)}, awaiting reaper`
}

/** Moves every countdown and "ago" on the page to `nowMs` (server clock); no requests. */
export function tickTimes(root: ParentNode, nowMs: number): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-expires]')) {
    const remaining = Date.parse(el.dataset.expires!) - nowMs
    el.textContent = countdownText(remaining)
    el.closest('.lease')?.classList.toggle('expired', remaining <= 0)
  }
  for (const el of root.querySelectorAll<HTMLElement>('[data-relative]')) {
    el.textContent = relative(el.dataset.relative!, nowMs)
  }
}

export function link(href: string, label: Child, props: Record<string, string> = {}): HTMLAnchorElement {
  return h('a', { href, ...props }, label)
}

export function executionLink(id: string): HTMLAnchorElement {
  return link(`#/executions/${encodeURIComponent(id)}`, h('code', null, id), { 'data-key': `exec-${id}` })
}

export function button(
  label: Child,
  onClick: (event: Event) => void,
  props: Record<string, string | boolean | null> = {},
): HTMLButtonElement {
  return h('button', { type: 'button', onClick, ...props }, label)
}

export function errorBox(message: string): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, message)
}

export function pageHeader(title: string, intro?: Child): HTMLElement {
  return h(
    'div',
    { class: 'page-header' },
    h('h1', { tabindex: -1 }, title),
    intro ? h('p', { class: 'intro' }, intro) : null,
  )
}

/**
 * A labelled form control. The label points at the control by id rather than wrapping it, so a
 * select's name is its label alone (a wrapping label would add the selected option's text).
 */
export function field(label: string, control: HTMLElement): HTMLElement {
  if (!control.id) control.id = uid('field')
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control)
}

/** A definition list of label/value pairs, skipping empty values. */
export function facts(pairs: [string, Child][]): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    pairs
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))),
  )
}
