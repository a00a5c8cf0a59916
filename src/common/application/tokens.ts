/** Injection tokens for the framework-free ports everyone uses. */
export const ID_GENERATOR = Symbol('IdGenerator');
export const CLOCK = Symbol('Clock');
/** Whether this process runs a background job among the processes sharing the store (`LedgerStorage.leads`). */
export const JOB_LEADERSHIP = Symbol('JobLeadership');
export type JobLeadership = (job: string) => Promise<boolean>;
