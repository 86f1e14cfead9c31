/*
 * The Standard Schema interface (https://standardschema.dev), declared here rather than imported
 * so the SDK has no schema library as a dependency: zod (3.24+ and 4), valibot and arktype
 * schemas all satisfy it.
 */

/**
 * One problem a schema found.
 *
 * @example
 * ```ts
 * const issue: SchemaIssue = { message: 'Expected number', path: ['n'] }
 * ```
 */
export interface SchemaIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/**
 * What a schema's `validate` returns: the value, or the issues.
 *
 * @example
 * ```ts
 * const result: SchemaResult<number> = await schema['~standard'].validate(input)
 * if (result.issues) console.log(result.issues.map((i) => i.message))
 * ```
 */
export type SchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<SchemaIssue> }

/**
 * A payload schema: anything implementing Standard Schema v1, such as a zod schema.
 *
 * @example
 * ```ts
 * import { z } from 'zod'
 * import type { PayloadSchema } from '@cuekit/sdk'
 *
 * const Email: PayloadSchema<{ to: string }> = z.object({ to: z.email() })
 * ```
 */
export interface PayloadSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => SchemaResult<Output> | Promise<SchemaResult<Output>>
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined
  }
}

/**
 * The type a payload schema produces.
 *
 * @example
 * ```ts
 * const Email = z.object({ to: z.email() })
 * type Email = InferPayload<typeof Email> // { to: string }
 * ```
 */
export type InferPayload<S> = S extends { readonly '~standard': { readonly types?: infer T } }
  ? NonNullable<T> extends { readonly output: infer O }
    ? O
    : unknown
  : unknown

/** Runs a schema and returns the parsed value, or a readable description of the issues. */
export async function validatePayload<O>(
  schema: PayloadSchema<O>,
  value: unknown,
): Promise<{ ok: true; value: O } | { ok: false; message: string }> {
  const result = await schema['~standard'].validate(value)
  if (result.issues === undefined) return { ok: true, value: result.value }
  const problems = result.issues.slice(0, 5).map((issue) => {
    const path = (issue.path ?? [])
      .map((p) => String(typeof p === 'object' && p !== null && 'key' in p ? p.key : p))
      .join('.')
    return path ? `${path}: ${issue.message}` : issue.message
  })
  const more = result.issues.length > 5 ? ` (+${result.issues.length - 5} more)` : ''
  return { ok: false, message: `${problems.join('; ')}${more}` }
}
