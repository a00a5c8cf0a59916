/** Injection tokens for the framework-free ports everyone uses. */
export const ID_GENERATOR = Symbol('IdGenerator');
export const CLOCK = Symbol('Clock');
