/** A tiny JSON client for the bench: the tenant's key on every request, errors thrown. */
export function api(baseUrl: string, apiKey: string) {
  return async <T = any>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`)
    return (text ? JSON.parse(text) : null) as T
  }
}

export type Api = ReturnType<typeof api>

/** Enqueues `n` executions of `task` through the bulk endpoint, 1,000 per request. */
export async function bulkEnqueue(call: Api, n: number, task: string, payload: unknown = {}): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const size = Math.min(1000, n - i)
    await call('POST', '/v1/executions/bulk', {
      executions: Array.from({ length: size }, () => ({ task, payload })),
    })
  }
}
