export { type AppOptions, type CuekitApp, createApp } from './app.ts'
export { defaultServerConfig, Env, type ServerConfig } from './config.ts'
export {
  blockedReason,
  type CheckedAddress,
  checkWebhookUrl,
  type Resolver,
  WebhookUrlError,
} from './ssrf.ts'
export { pythonIsoformat, sendWebhook, signWebhook, WebhookDispatcher } from './webhooks.ts'
