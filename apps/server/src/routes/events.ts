import { type ExecutionEvent, ROUTES } from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../context.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'

/** `GET /v1/events`: the tenant's execution state changes, from pub/sub, as server-sent events. */
export function eventRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  route(app, s, ROUTES.events, (c) => {
    const tenant = c.get('tenant')
    return streamSSE(c, async (stream) => {
      const queue: ExecutionEvent[] = []
      let wake: (() => void) | null = null
      let pingDue = false
      const kick = () => {
        const resolve = wake
        wake = null
        resolve?.()
      }
      const stop = await s.pubsub.onEvents(tenant, (event) => {
        queue.push(event)
        kick()
      })
      // Everything below is undone in `finally`: the shutdown signal lives as long as the
      // process, and a stream is opened and closed again each time a dashboard reconnects.
      stream.onAbort(kick)
      s.shutdown.addEventListener('abort', kick)
      const ping = setInterval(() => {
        pingDue = true
        kick()
      }, 15_000)
      ping.unref()
      try {
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ tenant_id: tenant.id }) })
        while (!stream.aborted && !s.shutdown.aborted) {
          while (queue.length > 0) {
            const event = queue.shift()!
            await stream.writeSSE({
              event: 'execution',
              data: JSON.stringify(event),
              id: `${event.execution_id}:${event.at}`,
            })
          }
          if (pingDue) {
            pingDue = false
            await stream.write(': keep-alive\n\n')
            continue
          }
          if (stream.aborted || s.shutdown.aborted) break
          await new Promise<void>((resolve) => {
            wake = resolve
          })
        }
      } finally {
        wake = null
        clearInterval(ping)
        s.shutdown.removeEventListener('abort', kick)
        stop()
      }
    })
  })
}
