import { ExecutionEvent } from '@cuekit/protocol'
import { ConnectionError } from '../errors.ts'
import { describe, type Requester, safeJson } from './request.ts'

/**
 * `client.events`: the tenant's execution state changes as server-sent events.
 *
 * @example
 * ```ts
 * const stop = new AbortController()
 * for await (const event of client.events.stream({ signal: stop.signal })) {
 *   console.log(event.execution_id, event.status)
 * }
 * ```
 */
export class EventsApi {
  constructor(private readonly client: Requester) {}

  /** `GET /v1/events`: yields each `execution` event until `signal` aborts or the server ends the stream. */
  async *stream(options: { signal?: AbortSignal } = {}): AsyncGenerator<ExecutionEvent, void, undefined> {
    const response = await this.client.stream('/v1/events', options.signal)
    if (!response.body) return
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n')
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          let name = 'message'
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) name = line.slice(6).trim()
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
          }
          if (name !== 'execution' || data.length === 0) continue
          const parsed = ExecutionEvent.safeParse(safeJson(data.join('\n')))
          if (parsed.success) yield parsed.data
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return
      throw new ConnectionError(`event stream ended: ${describe(error)}`, {
        code: 'connection_error',
        status: 0,
        cause: error,
      })
    }
  }
}
