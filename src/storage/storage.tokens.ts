/** The event store of the configured backend. */
export const EVENT_STORE = Symbol('EventStore');
export const KEY_STORE = Symbol('KeyStore');
