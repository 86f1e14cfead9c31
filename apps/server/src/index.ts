export { type AppOptions, type CuekitApp, createApp } from './app.ts'
export { defaultServerConfig, Env, type ServerConfig } from './config.ts'
export {
  blockedReason,
  type CheckedAddress,
  checkWebhookUrl,
  type Resolver,
  WebhookUrlError,
} from './ssrf.ts'
export { pythonIsoformat, sendWebhook, signWebhook } from './webhooks/deliver.ts'
export { WebhookDispatcher } from './webhooks/dispatcher.ts'
