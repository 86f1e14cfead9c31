import { pythonJsonDumps } from '@cuekit/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

// Expected strings were produced by CPython 3's `json.dumps(value, sort_keys=True)`.
describe('pythonJsonDumps matches json.dumps(sort_keys=True)', () => {
  it('nested objects and arrays: sorted keys, ", " and ": " separators', () => {
    expect(pythonJsonDumps({ b: 1, a: [1, 2, { d: null, c: true, e: false }], z: { y: { x: [] } } })).toBe(
      '{"a": [1, 2, {"c": true, "d": null, "e": false}], "b": 1, "z": {"y": {"x": []}}}',
    )
  })

  it('empty containers and empty strings', () => {
    expect(pythonJsonDumps([{}, [], '', { a: {}, b: [] }])).toBe('[{}, [], "", {"a": {}, "b": []}]')
    expect(pythonJsonDumps({})).toBe('{}')
    expect(pythonJsonDumps([])).toBe('[]')
  })

  it('non-ASCII as lowercase \\uXXXX, astral characters as surrogate pairs', () => {
    expect(pythonJsonDumps('héllo 世界 😀 \u2028')).toBe(
      '"h\\u00e9llo \\u4e16\\u754c \\ud83d\\ude00 \\u2028"',
    )
    expect(pythonJsonDumps('\ud83d')).toBe('"\\ud83d"')
  })

  it('control characters, DEL, quotes and backslashes escaped; "/" left alone', () => {
    expect(pythonJsonDumps('\x00\x01\x1f\x7f\b\f\n\r\t"\\/')).toBe(
      '"\\u0000\\u0001\\u001f\\u007f\\b\\f\\n\\r\\t\\"\\\\/"',
    )
    expect(pythonJsonDumps('https://example.com/a?b=c&d=<e>')).toBe('"https://example.com/a?b=c&d=<e>"')
  })

  it('keys sorted by code point, not UTF-16 unit, and escaped like values', () => {
    expect(pythonJsonDumps({ '\uffff': 1, '😀': 2, b: 3, B: 4, a: 5, é: 6, '': 7 })).toBe(
      '{"": 7, "B": 4, "a": 5, "b": 3, "\\u00e9": 6, "\\uffff": 1, "\\ud83d\\ude00": 2}',
    )
  })

  it('integers with all their digits, never an exponent', () => {
    expect(pythonJsonDumps([0, -1, 1e20, -42, 2 ** 53])).toBe(
      '[0, -1, 100000000000000000000, -42, 9007199254740992]',
    )
    expect(pythonJsonDumps(9007199254740993n)).toBe('9007199254740993')
    expect(pythonJsonDumps(-0)).toBe('0')
  })

  it("floats laid out like Python's repr", () => {
    expect(
      pythonJsonDumps([1.5, 0.1, 1e-5, 0.0001, 1.5e-10, -2.5, 123.456, 1e-7, 0.1 + 0.2, 5e-324, 12345678.9]),
    ).toBe(
      '[1.5, 0.1, 1e-05, 0.0001, 1.5e-10, -2.5, 123.456, 1e-07, 0.30000000000000004, 5e-324, 12345678.9]',
    )
    expect(pythonJsonDumps([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe(
      '[NaN, Infinity, -Infinity]',
    )
  })

  it('follows JSON.stringify for what Python has no word for', () => {
    expect(pythonJsonDumps({ a: undefined, b: [undefined, () => 1], c: new Date(0) })).toBe(
      '{"b": [null, null], "c": "1970-01-01T00:00:00.000Z"}',
    )
    expect(pythonJsonDumps(undefined)).toBe('null')
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(() => pythonJsonDumps(circular)).toThrow(TypeError)
    // The same object twice is not a cycle.
    const shared = { x: 1 }
    expect(pythonJsonDumps([shared, shared])).toBe('[{"x": 1}, {"x": 1}]')
  })

  it('property: pure ASCII output that parses back to the same value', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
        fc.string({ unit: 'binary' }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: 'binary' }), tie('value'), { maxKeys: 4 }),
      ),
    })).value
    fc.assert(
      fc.property(json, (value) => {
        const text = pythonJsonDumps(value)
        expect(text).toMatch(/^[ -~]*$/)
        expect(JSON.parse(text)).toEqual(value)
      }),
      { numRuns: 300 },
    )
  })
})
