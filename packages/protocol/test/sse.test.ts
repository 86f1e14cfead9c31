import { type SseMessage, SseParser } from '@cuekit/protocol/sse'
import { describe, expect, it } from 'vitest'

// Every rule of https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
// the server or a proxy may exercise, in one stream: LF, CRLF and lone CR line ends (CR CR too),
// a BOM, comments, multi-line data, "data:" without a space and with two, a field with no colon,
// ids that persist, an id with NUL (ignored), retry (digits only), unknown fields, an event with
// no data (not dispatched), and an unfinished event at the end (discarded).
const STREAM =
  '\uFEFF: a comment first\n' +
  'event: ready\r\n' +
  'data: {"tenant_id":"t1"}\r\n' +
  '\r\n' +
  'data: line one\r' +
  'data: line two\r' +
  'data:no space\n' +
  'data:  two spaces\n' +
  'id: e1:2026\n' +
  '\n' +
  'event: execution\r\n' +
  'data\r\n' +
  '\r\n' +
  ': keep-alive\r' +
  '\r' +
  'retry: 1500\n' +
  'retry: soon\n' +
  'foo: bar\n' +
  'id: bad\0id\n' +
  'data: after unknown fields\n' +
  '\n' +
  'event: nothing\n' +
  '\n' +
  'id\n' +
  'data: id reset\r\n' +
  '\r\n' +
  'data: unfinished'

const EXPECTED: SseMessage[] = [
  { event: 'ready', data: '{"tenant_id":"t1"}', id: null },
  { event: 'message', data: 'line one\nline two\nno space\n two spaces', id: 'e1:2026' },
  { event: 'execution', data: '', id: 'e1:2026' },
  { event: 'message', data: 'after unknown fields', id: 'e1:2026' },
  { event: 'message', data: 'id reset', id: '' },
]

function parse(chunks: string[]): { messages: SseMessage[]; retryMs: number | null } {
  const parser = new SseParser()
  const messages = chunks.flatMap((chunk) => parser.push(chunk))
  return { messages, retryMs: parser.retryMs }
}

describe('SseParser', () => {
  it('parses the whole stream at once', () => {
    expect(parse([STREAM])).toEqual({ messages: EXPECTED, retryMs: 1500 })
  })

  it('gives the same events with a chunk boundary at every position', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const got = parse([STREAM.slice(0, cut), STREAM.slice(cut)])
      expect(got, `cut at ${cut}: ${JSON.stringify(STREAM.slice(cut - 2, cut + 2))}`).toEqual({
        messages: EXPECTED,
        retryMs: 1500,
      })
    }
  })

  it('gives the same events with boundaries at every pair of positions, and one character at a time', () => {
    for (let a = 1; a < STREAM.length; a++) {
      for (let b = a; b < STREAM.length; b++) {
        const got = parse([STREAM.slice(0, a), STREAM.slice(a, b), STREAM.slice(b)])
        if (JSON.stringify(got.messages) !== JSON.stringify(EXPECTED)) {
          expect(got.messages, `cuts at ${a} and ${b}`).toEqual(EXPECTED)
        }
      }
    }
    expect(parse([...STREAM])).toEqual({ messages: EXPECTED, retryMs: 1500 })
  })

  it('dispatches on CR CR at once, without waiting for a possible LF', () => {
    const parser = new SseParser()
    expect(parser.push('data: x\r\r')).toEqual([{ event: 'message', data: 'x', id: null }])
    // The LF after a chunk-ending CR belongs to it: no extra blank line.
    expect(parser.push('data: y\r')).toEqual([])
    expect(parser.push('\n')).toEqual([])
    expect(parser.push('\r\n')).toEqual([{ event: 'message', data: 'y', id: null }])
  })

  it('drops a BOM only at the very start of the stream', () => {
    const parser = new SseParser()
    expect(parser.push('')).toEqual([])
    expect(parser.push('\uFEFFdata: a\n\n')).toEqual([{ event: 'message', data: 'a', id: null }])
    // Later, U+FEFF is part of a line: here it makes an unknown field name.
    expect(parser.push('\uFEFFdata: b\n\n')).toEqual([])
  })
})
