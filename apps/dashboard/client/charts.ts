import type { RatesResponse } from '@cuekit/protocol'
import { type Bucket, buckets, type RateKind, summarize, WINDOWS } from './activity.ts'
import { h, svg, text, uid } from './dom.ts'
import { dateTime, duration, rate } from './format.ts'

/** The Overview's charts: throughput as a rate, trouble (failures, reclaims) as counts. */
const CHARTS: { kind: RateKind; title: string; perSecond: boolean; noun: string; hint?: string }[] = [
  { kind: 'claims', title: 'Claims per second', perSecond: true, noun: 'claims' },
  { kind: 'completions', title: 'Completions per second', perSecond: true, noun: 'completions' },
  { kind: 'failures', title: 'Failures', perSecond: false, noun: 'failures', hint: 'Failure reports.' },
  {
    kind: 'reclaims',
    title: 'Reclaims',
    perSecond: false,
    noun: 'reclaims',
    hint: 'Leases that expired unreported and were re-queued: a worker died or stalled holding them.',
  },
]

const WIDTH = 300
const HEIGHT = 60

/** One figure per series: bars with the numbers of each on hover, and a line of numbers for all. */
export function activityCharts(rates: RatesResponse, nowMs: number): HTMLElement[] {
  return CHARTS.map((c) => chart(rates, c, nowMs))
}

function chart(rates: RatesResponse, c: (typeof CHARTS)[number], nowMs: number): HTMLElement {
  const spec = WINDOWS[rates.window]
  const per = spec.bucketMinutes === 1 ? 'minute' : `${spec.bucketMinutes} minutes`
  const bars = buckets(rates.minutes, c.kind, spec.bucketMinutes, nowMs)
  const s = summarize(rates.minutes, c.kind, nowMs)
  const max = Math.max(1, ...bars.map((b) => b.count))
  const slot = WIDTH / Math.max(1, bars.length)
  const captionId = uid('chart')
  const summary =
    s.total === 0
      ? `none in the last ${spec.span}`
      : c.perSecond
        ? `now ${rate(s.now)}, peak ${rate(s.peak)}, ${s.total} in the last ${spec.span}`
        : `${s.total} in the last ${spec.span}, at most ${s.peakCount} in a minute`
  return h(
    'figure',
    {
      class: `chart chart-${c.kind}${!c.perSecond && s.total > 0 ? ' trouble' : ''}`,
      'data-chart': c.kind,
      'data-total': s.total,
    },
    h(
      'figcaption',
      { id: captionId },
      h('strong', { title: c.hint ?? null }, c.perSecond ? c.title : `${c.title} per ${per}`),
      ' ',
      h(
        'span',
        {
          'data-summary': c.kind,
          title: c.perSecond
            ? `"now" is the average over the last ${s.nowSeconds} s (the previous minute and this one so far); "peak" the busiest minute's.`
            : null,
        },
        summary,
      ),
    ),
    svg(
      'svg',
      {
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-labelledby': captionId,
        focusable: 'false',
      },
      svg('line', { x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5, class: 'axis' }),
      ...bars.map((b, i) => bar(b, i * slot, slot, max, c, per)),
    ),
    h(
      'div',
      { class: 'chart-scale', 'aria-hidden': 'true' },
      h('span', null, `${spec.label} ago`),
      h('span', null, 'now'),
    ),
  )
}

/** A bucket's bar, and a full-height target so that hovering any slot names its time and count. */
function bar(
  b: Bucket,
  x: number,
  slot: number,
  max: number,
  c: (typeof CHARTS)[number],
  per: string,
): SVGElement {
  const height = b.count === 0 ? 0 : Math.max(1.5, (b.count / max) * (HEIGHT - 4))
  const width = Math.max(0.5, slot - Math.min(0.6, slot * 0.2))
  const start = new Date(b.start).toISOString()
  const notes = [
    b.current ? `${duration(b.seconds * 1000)} so far` : '',
    c.perSecond && b.count > 0 ? rate(b.count / Math.max(1, b.seconds)) : '',
  ].filter(Boolean)
  const label = `${b.count} ${c.noun} in the ${per} from ${dateTime(start)}${notes.length ? ` (${notes.join(', ')})` : ''}`
  const children: Node[] = [
    svg('title', {}, text(label)),
    svg('rect', { x: x.toFixed(2), y: 0, width: slot.toFixed(2), height: HEIGHT, class: 'hit' }),
  ]
  if (height > 0) {
    children.push(
      svg('rect', {
        x: x.toFixed(2),
        y: (HEIGHT - height).toFixed(2),
        width: width.toFixed(2),
        height: height.toFixed(2),
        class: b.current ? 'bar current' : 'bar',
      }),
    )
  }
  return svg('g', { class: 'slot', 'data-count': b.count, 'data-start': start }, ...children)
}
