import { describe, expect, it } from 'vitest'
import { iso, packedRows } from '../src/decode.ts'
import { REPORT_REPLY, REPORTED, SEP } from '../src/layouts/index.ts'

describe('iso', () => {
  it('writes what toISOString() writes, for every kind of instant (issue 13 §2)', () => {
    const instants = [
      0,
      1,
      999,
      86_399_999,
      86_400_000,
      951_782_400_000, // 2000-02-29
      1_700_000_000_123,
      1_700_000_000_123, // the cached day again
      1_699_999_999_999,
      253_402_300_799_999,
    ]
    let x = 0x9e3779b9
    for (let i = 0; i < 2000; i++) {
      x = (x * 1_103_515_245 + 12_345) % 2 ** 31
      instants.push(Math.floor((x / 2 ** 31) * 4_102_444_800_000))
    }
    for (const t of instants) {
      expect(iso(t)).toBe(new Date(t).toISOString())
      expect(iso(String(t))).toBe(new Date(t).toISOString())
    }
  })

  it('leaves what it does not format itself to Date', () => {
    expect(iso(-1)).toBe('1969-12-31T23:59:59.999Z')
    expect(iso(253_402_300_800_000)).toBe(new Date(253_402_300_800_000).toISOString())
    expect(() => iso('not a time')).toThrow(RangeError)
  })
})

describe('packedRows', () => {
  it('reads the items packed after the head, empty fields at either end included', () => {
    const items = [
      ['lease_lost', '', '', '', ''],
      ['ok', 'success', '1', '', 'reported_success'],
      ['ok', 'retrying', '2', '1700000000000', ''],
    ]
    const reply = ['ok', '1700000000000', '', items.flat().join(SEP)]
    expect(reply).toHaveLength(REPORT_REPLY.size + 1)
    const read = packedRows(reply, REPORT_REPLY, REPORTED, 3).map((row) =>
      REPORTED.fields.map((f) => row.str(f)),
    )
    expect(read).toEqual(items)
    expect(packedRows(['ok', '1700000000000', '', ''], REPORT_REPLY, REPORTED, 0)).toEqual([])
  })
})
