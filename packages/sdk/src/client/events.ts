import { type ExecutionEvent, ROUTES } from '@cuekit/protocol'
import { SseParser } from '@cuekit/protocol/sse'
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
    const response = await this.client.stream(ROUTES.events, options.signal)
    if (!response.body) return
    const decoder = new TextDecoder()
    const parser = new SseParser()
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (message.event !== 'execution') continue
          const parsed = ROUTES.events.responses[200].schema.safeParse(safeJson(message.data))
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
