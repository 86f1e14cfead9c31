import { signWebhook as protocolSignWebhook } from '@cuekit/protocol/webhook-signature'
import { checkWebhook, signWebhook, verifyWebhook } from '@cuekit/sdk'
import { describe, expect, it } from 'vitest'

// A delivery signed by CPython: hmac(secret, f"{ts}." + json.dumps(body, sort_keys=True)).
const SECRET = 'whsec_test_secret'
const TIMESTAMP = 1_767_225_600
const BODY = {
  execution_id: 'exec_1',
  cue_id: 'cue_1',
  payload: { name: 'Zoë', emoji: '😀', n: 42, list: [1, 'two', null] },
  scheduled_for: '2026-01-01T00:00:00Z',
}
const RAW =
  '{"cue_id": "cue_1", "execution_id": "exec_1", "payload": {"emoji": "\\ud83d\\ude00", "list": [1, "two", null], "n": 42, "name": "Zo\\u00eb"}, "scheduled_for": "2026-01-01T00:00:00Z"}'
const SIGNATURE = 'v1=108eab730b6b0060fd47718b528aa0c29216939b010f7f9c4492b9b6285c27bb'
const headers = { 'X-CueAPI-Timestamp': String(TIMESTAMP), 'X-CueAPI-Signature': SIGNATURE }
const at = (seconds: number) => ({ now: () => seconds * 1000 })

describe('verifyWebhook', () => {
  it('accepts a Python-signed delivery as raw text, raw bytes, or a parsed object', () => {
    expect(verifyWebhook(SECRET, headers, RAW, at(TIMESTAMP))).toBe(true)
    expect(verifyWebhook(SECRET, headers, Buffer.from(RAW), at(TIMESTAMP))).toBe(true)
    expect(verifyWebhook(SECRET, headers, new Uint8Array(Buffer.from(RAW)), at(TIMESTAMP))).toBe(true)
    expect(verifyWebhook(SECRET, headers, JSON.parse(RAW), at(TIMESTAMP))).toBe(true)
    expect(verifyWebhook(SECRET, headers, BODY, at(TIMESTAMP))).toBe(true)
    expect(signWebhook(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE)
  })

  it('signs with the one signWebhook the server uses, from @cuekit/protocol', () => {
    expect(signWebhook).toBe(protocolSignWebhook)
  })

  it('reads fetch Headers and Node header objects, case-insensitively', () => {
    expect(verifyWebhook(SECRET, new Headers(headers), RAW, at(TIMESTAMP))).toBe(true)
    const node = { 'x-cueapi-timestamp': String(TIMESTAMP), 'x-cueapi-signature': [SIGNATURE] }
    expect(verifyWebhook(SECRET, node, RAW, at(TIMESTAMP))).toBe(true)
  })

  it('refuses a wrong secret, a changed body, a changed timestamp, or a malformed signature', () => {
    const check = (secret: string, h: Record<string, string>, body: string | object) =>
      checkWebhook(secret, h, body as string, at(TIMESTAMP))
    expect(check('whsec_other', headers, RAW)).toEqual({ ok: false, reason: 'signature_mismatch' })
    expect(check(SECRET, headers, RAW.replace('42', '43'))).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    })
    expect(check(SECRET, headers, { ...BODY, cue_id: 'cue_2' })).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    })
    // Raw bytes are verified as they are: the same JSON written differently is another body.
    expect(check(SECRET, headers, JSON.stringify(BODY))).toEqual({ ok: false, reason: 'signature_mismatch' })
    expect(
      checkWebhook(SECRET, { ...headers, 'X-CueAPI-Timestamp': String(TIMESTAMP + 1) }, RAW, at(TIMESTAMP)),
    ).toEqual({ ok: false, reason: 'signature_mismatch' })
    expect(check(SECRET, { ...headers, 'X-CueAPI-Signature': SIGNATURE.slice(3) }, RAW).ok).toBe(false)
    expect(check(SECRET, { ...headers, 'X-CueAPI-Signature': `${SIGNATURE}00` }, RAW).ok).toBe(false)
    expect(check(SECRET, { 'X-CueAPI-Timestamp': String(TIMESTAMP) }, RAW)).toEqual({
      ok: false,
      reason: 'missing_signature',
    })
    expect(check(SECRET, { 'X-CueAPI-Signature': SIGNATURE }, RAW)).toEqual({
      ok: false,
      reason: 'missing_timestamp',
    })
    expect(check(SECRET, { ...headers, 'X-CueAPI-Timestamp': '17e8' }, RAW)).toEqual({
      ok: false,
      reason: 'invalid_timestamp',
    })
  })

  it('accepts ±5 minutes by default, configurable', () => {
    expect(verifyWebhook(SECRET, headers, RAW, at(TIMESTAMP + 300))).toBe(true)
    expect(verifyWebhook(SECRET, headers, RAW, at(TIMESTAMP - 300))).toBe(true)
    expect(checkWebhook(SECRET, headers, RAW, at(TIMESTAMP + 301))).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    })
    expect(verifyWebhook(SECRET, headers, RAW, at(TIMESTAMP - 301))).toBe(false)
    expect(verifyWebhook(SECRET, headers, RAW, { ...at(TIMESTAMP + 3600), toleranceSeconds: 3600 })).toBe(
      true,
    )
    // Without an injected clock the real one applies: a 2026 timestamp is long expired or far ahead.
    expect(verifyWebhook(SECRET, headers, RAW)).toBe(Math.abs(Date.now() / 1000 - TIMESTAMP) <= 300)
  })

  it('supports secret rotation: several secrets, several v1= signatures', () => {
    expect(verifyWebhook(['whsec_new', SECRET], headers, RAW, at(TIMESTAMP))).toBe(true)
    const both = {
      ...headers,
      'X-CueAPI-Signature': `${signWebhook('whsec_new', TIMESTAMP, RAW)}, ${SIGNATURE}`,
    }
    expect(verifyWebhook(SECRET, both, RAW, at(TIMESTAMP))).toBe(true)
    expect(verifyWebhook('whsec_new', both, RAW, at(TIMESTAMP))).toBe(true)
    expect(verifyWebhook('whsec_third', both, RAW, at(TIMESTAMP))).toBe(false)
  })
})
