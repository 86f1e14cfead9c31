import { type Child, h, uid } from './dom.ts'
import { countdown, dateTime, relative, shortDateTime } from './format.ts'

export interface Column {
  label: string
  /** Right-aligned numbers. */
  numeric?: boolean
  /** Shown to screen readers only (a checkbox or actions column). */
  hiddenLabel?: boolean
  /** Replaces the label in the header cell (a select-all checkbox, say). */
  header?: Child
}

/**
 * A captioned table in a scrollable, focusable region, so at 390 px it scrolls sideways on its
 * own (keyboard included) instead of widening the page. The first cell of a row is its header.
 */
export function table(options: {
  caption: Child
  columns: Column[]
  rows: { key: string; cells: Child[]; class?: string }[]
  empty: string
  id?: string
  /** Which cell names the row for screen readers (default the first). */
  rowHeader?: number
}): HTMLElement {
  const rowHeader = options.rowHeader ?? 0
  const captionId = uid('caption')
  const head = h(
    'tr',
    null,
    options.columns.map((c) =>
      h(
        'th',
        { scope: 'col', class: c.numeric ? 'num' : null },
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
              const numeric = options.columns[i]?.numeric ? 'num' : null
              return i === rowHeader
                ? h('th', { scope: 'row', class: numeric }, cell)
                : h('td', { class: numeric }, cell)
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
      null,
      h('caption', { id: captionId }, options.caption),
      h('thead', null, head),
      h('tbody', null, body),
    ),
  )
}

export function badge(value: string, kind = value): HTMLElement {
  return h('span', { class: `badge badge-${kind.replace(/[^a-z_-]/gi, '')}` }, value.replace(/_/g, ' '))
}

/** A timestamp in the viewer's zone (or `timeZone`), with the exact UTC instant on hover. */
export function time(iso: string | null | undefined, timeZone?: string): Child {
  if (!iso) return h('span', { class: 'muted' }, '—')
  return h('time', { datetime: iso, title: iso }, dateTime(iso, timeZone))
}

/** A compact timestamp for table cells, full date and UTC instant on hover. */
export function shortTime(iso: string | null | undefined, nowMs: number): Child {
  if (!iso) return h('span', { class: 'muted' }, '—')
  return h('time', { datetime: iso, title: `${dateTime(iso)} (${iso})` }, shortDateTime(iso, nowMs))
}

/** "12s ago" that the page's ticker keeps current. */
export function ago(iso: string | null | undefined, nowMs: number): Child {
  if (!iso) return h('span', { class: 'muted' }, '—')
  return h('time', { datetime: iso, title: dateTime(iso), 'data-relative': iso }, relative(iso, nowMs))
}

/**
 * The countdown to a lease's expiry, which the page's ticker keeps current. Past expiry the text
 * says so and the enclosing `.lease` element gets `expired`, so the state is not told by colour alone.
 */
export function leaseCountdown(expiresIso: string, nowMs: number): HTMLElement {
  const remaining = Date.parse(expiresIso) - nowMs
  return h(
    'span',
    { class: 'countdown', 'data-expires': expiresIso, title: dateTime(expiresIso) },
    countdownText(remaining),
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
