/** The stores route tests run on: the project's private Redis, and the in-memory store of `npm start`. */
export const STORES = ['redis', 'memory'] as const
