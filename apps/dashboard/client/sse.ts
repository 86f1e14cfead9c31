// The event-stream parser is the one the SDK uses (WHATWG rules, tested with a chunk boundary at
// every position); live.ts reads the stream with fetch, since EventSource cannot send the
// Authorization header, and feeds the decoded chunks to it.
export { type SseMessage, SseParser } from '@cuekit/protocol/sse'
