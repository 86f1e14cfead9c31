/*
 * The text/event-stream parser the SDK and the dashboard share. It imports nothing and touches no
 * Node or DOM API, so the dashboard can bundle it for the browser (`@cuekit/protocol/sse`).
 */

/**
 * One server-sent event: its `event` name (`message` when the stream named none), its `data`
 * lines joined with `\n`, and the last event ID the stream set (null before any `id:` field).
 *
 * @example
 * ```ts
 * const message: SseMessage = { event: 'execution', data: '{"execution_id":"e1"}', id: 'e1:2' }
 * ```
 */
export interface SseMessage {
  event: string
  data: string
  id: string | null
}

const LINE_END = /[\r\n]/g

/**
 * An incremental text/event-stream parser following the WHATWG rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end in CRLF, LF or CR, and a CRLF may be split across chunks; a leading BOM is dropped;
 * `:` lines are comments; one space after the colon is dropped; a blank line dispatches the event
 * if it has data; `id:` persists across events (and is ignored when it contains NUL); `retry:`
 * takes digits only; unknown fields are ignored; an unfinished event at the end is discarded.
 *
 * Feed it decoded text (a `TextDecoder` with `stream: true` keeps multi-byte characters whole).
 *
 * @example
 * ```ts
 * import { SseParser } from '@cuekit/protocol/sse'
 *
 * const parser = new SseParser()
 * parser.push('event: ready\r') // []
 * parser.push('\ndata: {}\r\n\r\n') // [{ event: 'ready', data: '{}', id: null }]
 * ```
 */
export class SseParser {
  /** The reconnection delay the stream asked for with `retry:`, in ms; null until it does. */
  retryMs: number | null = null
  private line = ''
  private eventName = ''
  private data: string[] = []
  private lastEventId: string | null = null
  private started = false
  /** The previous chunk ended with CR: an LF at the start of the next one is the rest of a CRLF. */
  private afterCR = false

  /** Feeds a chunk of decoded text; returns the events it completed, in order. */
  push(chunk: string): SseMessage[] {
    const out: SseMessage[] = []
    let text = chunk
    if (!this.started && text.length > 0) {
      this.started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    let at = 0
    if (this.afterCR && text.length > 0) {
      this.afterCR = false
      if (text.charCodeAt(0) === 10) at = 1
    }
    while (at < text.length) {
      LINE_END.lastIndex = at
      const end = LINE_END.exec(text)
      if (end === null) {
        this.line += text.slice(at)
        break
      }
      const line = this.line + text.slice(at, end.index)
      this.line = ''
      this.take(line, out)
      at = end.index + 1
      if (end[0] === '\r') {
        if (at === text.length) this.afterCR = true
        else if (text.charCodeAt(at) === 10) at++
      }
    }
    return out
  }

  private take(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        out.push({ event: this.eventName || 'message', data: this.data.join('\n'), id: this.lastEventId })
      }
      this.eventName = ''
      this.data = []
      return
    }
    if (line.charCodeAt(0) === 58 /* : */) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1)
    if (field === 'event') this.eventName = value
    else if (field === 'data') this.data.push(value)
    else if (field === 'id') {
      if (!value.includes('\0')) this.lastEventId = value
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value)
  }
}
