/**
 * This package's version, sent in the `User-Agent` of every request.
 *
 * @example
 * ```ts
 * console.log(`@cuekit/sdk ${SDK_VERSION}`)
 * ```
 */
export const SDK_VERSION = '0.1.0'
