export { startDevCore } from './server.js';
export type { DevCore, DevCoreOptions, Fault, RequestRecord } from './server.js';
export { MessageStore, ValidationError } from './store.js';
export type { Entry, MessageRecord, Route, StoreOptions, StoreStats } from './store.js';
export { FrontendRegistry, FRONTEND_TTL_MS } from './frontends.js';
export type { FrontendRecord } from './frontends.js';
