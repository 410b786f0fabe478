export { generateId, handleOf, isWellFormedId } from './ids.js';
export type { Serializer, SessionStoreOptions } from './options.js';
export { createSessionStore } from './store.js';
export type { Session, SessionData, SessionPatch, SessionStore, SessionSummary } from './types.js';
