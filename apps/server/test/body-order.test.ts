import { describe, expect, it } from 'vitest'
import { ADMIN_KEY, makeApp, type TestApp } from './helpers.ts'

// Issue 11 §5: a request is routed and authenticated before its body is read; the body of a
// request that is refused (401, 403, 404, 405) is never read, let alone parsed.

/** A request whose body records whether anyone read it. */
async function send(t: TestApp, method: string, path: string, headers: Record<string, string>) {
  let read = false
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        read = true
        controller.enqueue(new TextEncoder().encode('{"not": json'))
        controller.close()
      },
      // No read ahead: `pull` runs only when someone reads.
    },
    { highWaterMark: 0 },
  )
  const res = await t.cuekit.app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  } as RequestInit)
  const json = (await res.json()) as { error: { code: string } }
  return { status: res.status, code: json.error.code, read }
}

const tenantKey = (t: TestApp) => ({ authorization: `Bearer ${t.apiKey}` })

describe('the body is read after the route and its guard', () => {
  it('refused requests (401, 403, 404, 405) are answered with the body unread', async () => {
    const t = await makeApp()
    const wrongKey = { authorization: `Bearer cue_sk_${'0'.repeat(32)}` }
    const cases: [string, string, Record<string, string>, number, string][] = [
      ['POST', '/v1/executions', {}, 401, 'unauthorized'],
      ['POST', '/v1/executions/claim', wrongKey, 401, 'unauthorized'],
      ['POST', '/v1/cues', {}, 401, 'unauthorized'],
      // The admin route, with a tenant key.
      ['POST', '/v1/tenants', tenantKey(t), 403, 'forbidden'],
      ['POST', '/v1/nothing', tenantKey(t), 404, 'not_found'],
      ['PUT', '/v1/executions', tenantKey(t), 405, 'method_not_allowed'],
    ]
    for (const [method, path, headers, status, code] of cases) {
      expect(await send(t, method, path, headers), `${method} ${path}`).toEqual({ status, code, read: false })
    }
  })

  it('an authenticated request still gets 400 for malformed JSON and 413 for a body over 1 MB', async () => {
    const t = await makeApp()
    expect(await send(t, 'POST', '/v1/executions', tenantKey(t))).toEqual({
      status: 400,
      code: 'invalid_json',
      read: true,
    })
    const big = JSON.stringify({ task: 'x', payload: 'y'.repeat(1024 * 1024) })
    const r = await t.json('POST', '/v1/executions', big)
    expect(r.status).toBe(413)
    expect(r.body.error.code).toBe('payload_too_large')
    // Anonymous, the same body is refused for the missing key.
    const anonymous = await t.cuekit.app.request('/v1/executions', { method: 'POST', body: big })
    expect(anonymous.status).toBe(401)
    // The admin route parses its body once the admin key is checked.
    const created = await t.cuekit.app.request('/v1/tenants', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      body: '{"name": ',
    })
    expect(created.status).toBe(400)
  })
})
