export { type AppOptions, type CuekitApp, createApp } from './app.ts'
export { defaultServerConfig, Env, type ServerConfig } from './config.ts'
