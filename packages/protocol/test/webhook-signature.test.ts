import { createHmac } from 'node:crypto'
import { signWebhook, webhookBodyBytes } from '@cuekit/protocol/webhook-signature'
import { describe, expect, it } from 'vitest'

// A delivery signed by CPython: hmac(secret, f"{ts}." + json.dumps(body, sort_keys=True)).
const SECRET = 'whsec_test_secret'
const TIMESTAMP = 1_767_225_600
const RAW =
  '{"cue_id": "cue_1", "execution_id": "exec_1", "payload": {"emoji": "\\ud83d\\ude00", "list": [1, "two", null], "n": 42, "name": "Zo\\u00eb"}, "scheduled_for": "2026-01-01T00:00:00Z"}'
const SIGNATURE = 'v1=108eab730b6b0060fd47718b528aa0c29216939b010f7f9c4492b9b6285c27bb'

describe('signWebhook', () => {
  it("matches Python's signature for the raw text, its bytes, the parsed body, and a string timestamp", () => {
    expect(signWebhook(SECRET, TIMESTAMP, RAW)).toBe(SIGNATURE)
    expect(signWebhook(SECRET, String(TIMESTAMP), Buffer.from(RAW))).toBe(SIGNATURE)
    expect(signWebhook(SECRET, TIMESTAMP, new Uint8Array(Buffer.from(RAW)).subarray(0))).toBe(SIGNATURE)
    expect(signWebhook(SECRET, TIMESTAMP, JSON.parse(RAW))).toBe(SIGNATURE)
  })

  it('signs the bytes given, not a re-serialisation: any text verifies as sent', () => {
    const compact = '{"b":1,"a":"é"}'
    const expected = createHmac('sha256', 'k').update(`7.${compact}`).digest('hex')
    expect(signWebhook('k', 7, compact)).toBe(`v1=${expected}`)
    // A view into a larger buffer signs only its own bytes.
    const big = Buffer.from(`xx${compact}yy`)
    expect(signWebhook('k', 7, big.subarray(2, 2 + Buffer.byteLength(compact)))).toBe(`v1=${expected}`)
    expect(webhookBodyBytes({ b: 1, a: 'é' }).toString()).toBe('{"a": "\\u00e9", "b": 1}')
  })
})
