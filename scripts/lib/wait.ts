/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000)
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `: ${last.message}` : ''
      throw new Error(
        `${options.message ?? 'condition not met'} within ${options.timeoutMs ?? 5000} ms${reason}`,
      )
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 5))
  }
}
