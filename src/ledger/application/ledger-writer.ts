import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { Clock } from '../../common/kernel/time.js';
import type { IdentifierVault } from '../../keys/application/identifier-vault.js';
import { KeyRace, type IndexEntry, type KeyStore } from '../../keys/key-store.port.js';
import type { AppendLease, EventStore, NewEvent, RecordedEvent, StreamAppend } from '../event-store.port.js';
import { leafHash } from '../domain/canonical.js';
import { link, linkOne, toNewEvent } from '../domain/chain.js';
import type { DraftEntry, LogEntry, ProcessingEntry } from '../domain/log-entry.js';
import type { ProcessingEvent } from '../domain/processing-event.js';
import type { AppendRefusal, RecordResult } from '../domain/record-outcome.js';
import type { Finding } from '../../compliance/domain/finding.js';
import { tenantStream } from '../domain/streams.js';
import { entryOf } from '../entry-of.js';
import { sameSubmission, submittedForm } from '../domain/submission.js';
import { pushTo } from '../../common/kernel/multimap.js';

export interface WriterMetrics {
  committed(events: number, seconds: number): void;
  answered(seconds: number): void;
  indexLagged?(): void;
}

export interface AdminDecision<R> {
  readonly drafts: readonly DraftEntry[];
  readonly answer: (entries: readonly LogEntry[]) => R;
}

type ProcessingJob = {
  readonly kind: 'processing';
  readonly tenant: string;
  readonly events: readonly ProcessingEvent[];
  readonly started: number;
  attempts: number;
  readonly done: (r: Either<AppendRefusal, RecordResult[]>) => void;
};
type AdminJob = {
  readonly kind: 'admin';
  /** Its decision reads nothing the other administrative requests write: it may share their commit. */
  readonly independent: boolean;
  readonly tenant: string;
  readonly started: number;
  attempts: number;
  readonly run: () => Promise<Either<unknown, AdminDecision<unknown>>>;
  readonly done: (r: Either<unknown, unknown>) => void;
};
type Job = ProcessingJob | AdminJob;

/**
 * What a cycle's plan decided for one event of a request: its answer already (a duplicate of the log), a
 * new event, or a repeat of one an earlier request of the cycle brings (answered as that one).
 */
type Decided = RecordResult | ProcessingEvent | { readonly sameAs: string };
const isFresh = (d: Decided): d is ProcessingEvent => !('status' in d) && !('sameAs' in d);

interface TenantPlan {
  readonly tenant: string;
  readonly expected: number;
  readonly events: NewEvent[];
  readonly index: IndexEntry[];
  readonly jobs: Array<{ job: ProcessingJob; results: RecordResult[] }>;
  /** Leaf hash of the entry at `expected`, the one the plan's first new entry chains to (none for an empty log). */
  readonly head: string | undefined;
  /** Leaf hash of the plan's last new entry. */
  lastHash?: string;
}

interface Cycle {
  readonly started: number;
  readonly plans: TenantPlan[];
  /** Keys of `uncommitted` added by this cycle. */
  readonly pending: string[];
  /** The writer's failed commits when it was prepared (`LedgerWriter.failures`): planned on every commit before it. */
  readonly generation: number;
}

/**
 * A cycle sent to the store: `landed` once the store answered it, `done` (and `over`) once its requests
 * are answered (false: not committed whole). The writer's loop lets go of it after that (`room`, `settle`).
 */
interface InFlight {
  readonly cycle: Cycle;
  done: Promise<boolean>;
  landed: boolean;
  over: boolean;
}

const MAX_EVENTS_PER_COMMIT = 5000;
/** While a commit is under way, requests arriving meanwhile join the next cycle once this many events wait. */
const GATHER_AT_LEAST = 16;
/** Tries of a request whose commit lost a race with another ledger process on the same log (see `contended`). */
const MAX_ATTEMPTS = 25;
/** Races lost in a row after which a cycle takes a turn alone (`EventStore.lease`). */
const LEASE_AFTER = 2;
const pendingKey = (tenant: string, eventId: string) => `${tenant}\u0000${eventId}`;

/**
 * Folds `more`, prepared after `into` and chained to it (positions and hashes planned on top of it),
 * into `into`: one append per tenant still, its entries in the order they were planned.
 */
function merge(into: Cycle, more: Cycle): void {
  // Checked whole first: a cycle that cannot join is refused before any of it is folded in.
  for (const p of more.plans) {
    const same = into.plans.find((q) => q.tenant === p.tenant);
    if (same && p.events.length && p.expected !== same.expected + same.events.length) throw new Error('a cycle was planned on another than the one it joins');
  }
  for (const p of more.plans) {
    const same = into.plans.find((q) => q.tenant === p.tenant);
    if (!same) {
      into.plans.push(p);
      continue;
    }
    if (p.events.length) {
      same.events.push(...p.events);
      same.index.push(...p.index);
      same.lastHash = p.lastHash;
    }
    same.jobs.push(...p.jobs);
  }
  into.pending.push(...more.pending);
}

/**
 * The one append path. Requests queue here; each cycle takes the waiting requests (group commit),
 * checks idempotency, seals personal values, canonicalises and hashes, makes new keys durable, then
 * commits all log entries and their inline projections in one transaction before answering anyone.
 * Cycles are pipelined: while one commits (and fsyncs, on the storage's own thread), the next is
 * prepared; it is committed only after the first, and prepared again if the first did not commit.
 * Where the store applies appends in the order they were made (`EventStore.ordered`), the next cycle is
 * sent as soon as it is prepared and waits there, so that the store starts it the moment the one before
 * is durable, while the writer gathers the one after (`depth`).
 */
export class LedgerWriter {
  private queue: Job[] = [];
  private running = false;
  private closing = false;
  private idle: Array<() => void> = [];
  /** Last committed revision per tenant stream. */
  private readonly revisions = new Map<string, number>();
  /** Last revision per tenant including the cycle being committed. */
  private readonly planned = new Map<string, number>();
  /** Leaf hash (hex) of the last committed entry per tenant, and including the cycle being committed. */
  private readonly hashes = new Map<string, string>();
  private readonly plannedHashes = new Map<string, string>();
  /** Events of the cycle being committed, so that a request repeating one waits for its outcome. */
  private readonly uncommitted = new Set<string>();
  /** Cycles sent to the store and not yet let go of by the loop, oldest first: at most `depth` not `over`. */
  private readonly inFlight: InFlight[] = [];
  /**
   * Cycles the store may hold at once. 2 where it applies appends in order (`EventStore.ordered`): one
   * committing, the next waiting at the store, which then never waits for this thread between two commits
   * (measured on the embedded store before: its thread was idle ~40% of the time under load, waiting for
   * the next group while this thread was busy with requests). 1 elsewhere.
   */
  private readonly depth: number;
  /**
   * Settles once the append of the cycle launched last has been handed to the store. A cycle's keys are
   * made durable first, which takes a trip to the storage thread only when it made new ones: a cycle
   * without new keys, launched behind one with, would otherwise reach the store first and be refused
   * (its entries chain to the other's), and all that was planned on it prepared again (seen under load
   * right after a start, while subjects were new).
   */
  private sending: Promise<void> = Promise.resolve();
  /** Commits that failed so far: a cycle prepared before one of them is prepared again (see `Cycle.generation`). */
  private failures = 0;
  /** Called when a request arrives while a prepared cycle waits for the one being committed. */
  private wake: (() => void) | null = null;
  private readonly listeners: Array<(tenant: string, administrative: boolean) => void> = [];
  /** Commits lost in a row to another process appending to the same log: the next cycle waits a little, at random, so they stop colliding. */
  private contended = 0;

  constructor(
    private readonly store: EventStore,
    private readonly keys: KeyStore,
    private readonly vault: IdentifierVault,
    private readonly clock: Clock,
    private readonly metrics?: WriterMetrics,
    /** The findings recorded with already stored events, for answers that say `duplicate`. */
    private readonly findingsOf: (tenant: string, eventIds: readonly string[]) => Promise<ReadonlyMap<string, readonly Finding[]>> = async () => new Map(),
    /** Told why requests were refused as `StoreUnavailable` (for the operator's log; never personal data). */
    private readonly onRefusal: (reason: string) => void = () => undefined,
  ) {
    this.depth = store.ordered ? 2 : 1;
  }

  private unavailable(reason: string): AppendRefusal {
    this.onRefusal(reason);
    return { _tag: 'StoreUnavailable', reason };
  }

  record(tenant: string, events: readonly ProcessingEvent[]): Promise<Either<AppendRefusal, RecordResult[]>> {
    if (this.closing) return Promise.resolve(left({ _tag: 'ShuttingDown' }));
    return new Promise((done) => this.enqueue({ kind: 'processing', tenant, events, started: performance.now(), attempts: 0, done }));
  }

  /** Appends administrative entries decided against the current read models, one request at a time. */
  append<E, R>(tenant: string, decide: () => Promise<Either<E, AdminDecision<R>>>): Promise<Either<E | AppendRefusal, R>> {
    if (this.closing) return Promise.resolve(left({ _tag: 'ShuttingDown' } as AppendRefusal));
    return new Promise((done) =>
      this.enqueue({ kind: 'admin', independent: false, tenant, started: performance.now(), attempts: 0, run: decide as AdminJob['run'], done: done as AdminJob['done'] }),
    );
  }

  /**
   * Appends entries that depend on no state (the record of a read, say): many requests share one commit,
   * so concurrent readers do not wait for one fsync each.
   */
  appendFacts(tenant: string, drafts: readonly DraftEntry[]): Promise<Either<AppendRefusal, null>> {
    if (this.closing) return Promise.resolve(left({ _tag: 'ShuttingDown' } as AppendRefusal));
    const run = async () => right({ drafts, answer: () => null });
    return new Promise((done) =>
      this.enqueue({ kind: 'admin', independent: true, tenant, started: performance.now(), attempts: 0, run, done: done as AdminJob['done'] }),
    );
  }

  /**
   * Calls `listener` with each tenant whose log has just grown by a commit, before the commit's requests
   * are answered; `administrative`: the commit holds administrative entries (tenancy, declarations,
   * requests…), not only processing events.
   */
  onCommit(listener: (tenant: string, administrative: boolean) => void): void {
    this.listeners.push(listener);
  }

  private committed(tenant: string, administrative: boolean) {
    for (const l of this.listeners) {
      try { l(tenant, administrative); } catch { /* a listener's failure is its own business */ }
    }
  }

  /** Stops taking requests and resolves once every accepted one is answered. */
  async drain(): Promise<void> {
    this.closing = true;
    if (!this.running && this.queue.length === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private enqueue(job: Job) {
    this.queue.push(job);
    this.wake?.();
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.loop());
    }
  }

  /**
   * The next cycle's requests: an administrative request alone, or processing requests up to the commit
   * size (`room`). When nothing is committing, about half of what waits, so that the rest is prepared
   * meanwhile.
   */
  private take(room = MAX_EVENTS_PER_COMMIT): Job[] {
    const first = this.queue[0]!;
    if (first.kind === 'admin' && first.independent) {
      const out: Job[] = [];
      while (out.length < 1000 && this.queue.length && this.queue[0]!.kind === 'admin' && (this.queue[0] as AdminJob).independent) out.push(this.queue.shift()!);
      return out;
    }
    if (first.kind === 'admin') return [this.queue.shift()!];
    let limit = room;
    if (this.inFlight.length === 0) limit = Math.min(limit, Math.ceil(this.waitingEvents() / 2));
    const out: Job[] = [];
    let n = 0;
    while (this.queue.length && this.queue[0]!.kind === 'processing' && (n === 0 || n + (this.queue[0] as ProcessingJob).events.length <= limit)) {
      const j = this.queue.shift() as ProcessingJob;
      n += j.events.length;
      out.push(j);
    }
    return out;
  }

  private async loop() {
    for (;;) {
      while (this.queue.length) {
        if (this.contended) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** this.contended)));
        const jobs = this.take();
        if (jobs[0]!.kind === 'admin') {
          await this.settle();
          await this.guard(jobs, () => this.runAdmin(jobs as AdminJob[]));
        } else {
          // Lost the race for the log to another process several times in a row: prepare and append in turn, alone.
          const turn: { lease: AppendLease | null } = { lease: null };
          if (this.contended >= LEASE_AFTER && this.store.lease) {
            await this.settle();
            let failed = true;
            await this.guard(jobs, async () => { turn.lease = await this.store.lease!(); failed = false; });
            if (failed) continue;
          }
          let cycle: Cycle | null = null;
          let deferred = false;
          await this.guard(jobs, async () => { ({ cycle, deferred } = await this.prepare(jobs as ProcessingJob[])); });
          if (cycle !== null && !deferred && !turn.lease) await this.gather(cycle);
          const lease = turn.lease;
          if (cycle === null) {
            // Every request waits for a cycle under way, or was answered already.
            await this.settle();
            await lease?.release();
            continue;
          }
          await this.room();
          if ((cycle as Cycle).generation !== this.failures) {
            // A commit failed since it was prepared: it was planned on what did not commit.
            await this.settle();
            this.replan(cycle);
            await lease?.release();
            continue;
          }
          this.launch(cycle, lease);
        }
        // Let the event loop read more requests, so that the next cycle groups them.
        if (this.queue.length) await new Promise((r) => setImmediate(r));
      }
      // Nothing more to prepare for now: wait for the oldest commit, or for requests to prepare meanwhile.
      if (this.inFlight.length) {
        await Promise.race([this.oldest()!.done, new Promise<void>((r) => { this.wake = r; })]);
        this.wake = null;
        if (this.queue.length) continue;
      }
      await this.settle();
      if (this.queue.length === 0) break;
    }
    this.running = false;
    for (const r of this.idle.splice(0)) r();
  }

  /**
   * While the store holds as many cycles as it may (`depth`), folds the processing requests that arrive
   * meanwhile into `cycle`, the one to send next: each commit then holds what arrived during the one
   * before, and many clients sending one event each share one fsync between twice as many of them. Stops
   * when the oldest commit is done, the cycle is full, an administrative request is next, or a request
   * must wait for the outcome of an event it repeats. With room at the store, the cycle goes at once.
   */
  private async gather(cycle: Cycle): Promise<void> {
    const committing = this.oldest()?.done;
    if (!committing || this.underWay() < this.depth) return;
    let done = false;
    void committing.then(() => { done = true; });
    const size = () => cycle.plans.reduce((n, p) => n + p.events.length, 0);
    for (;;) {
      // Prepared in groups, not one request at a time: each preparation has its fixed cost (a lookup of ids…).
      if (this.waitingEvents(GATHER_AT_LEAST) < GATHER_AT_LEAST) {
        await Promise.race([committing, new Promise<void>((r) => { this.wake = r; })]);
        this.wake = null;
        if (!done && this.waitingEvents(GATHER_AT_LEAST) < GATHER_AT_LEAST && this.queue[0]?.kind !== 'admin') continue;
      }
      const room = MAX_EVENTS_PER_COMMIT - size();
      if (done || room <= 0 || !this.queue.length || this.queue[0]!.kind !== 'processing') return;
      const jobs = this.take(room);
      let deferred = false;
      let failed = true;
      let stale = false;
      await this.guard(jobs, async () => {
        const prepared = await this.prepare(jobs as ProcessingJob[]);
        // A commit failed meanwhile, and what the writer assumed went with it: part of these requests may have
        // been planned without it. They go back to the queue, to be prepared again with `cycle` (see `loop`).
        stale = cycle.generation !== this.failures;
        if (prepared.cycle !== null) {
          if (stale) this.requeue(prepared.cycle.plans.flatMap((p) => p.jobs.map((j) => j.job)));
          else merge(cycle, prepared.cycle);
        }
        deferred = prepared.deferred;
        failed = false;
      });
      if (deferred || failed || stale) return;
    }
  }

  /** Events of the processing requests at the head of the queue (counted up to `enough`). */
  private waitingEvents(enough = Infinity): number {
    let n = 0;
    for (const j of this.queue) {
      if (j.kind !== 'processing' || n >= enough) break;
      n += j.events.length;
    }
    return n;
  }

  /** Cycles sent whose requests are not answered yet. */
  private underWay(): number {
    let n = 0;
    for (const f of this.inFlight) if (!f.over) n++;
    return n;
  }

  /** The oldest cycle sent whose requests are not answered yet, else the last one sent. */
  private oldest(): InFlight | undefined {
    return this.inFlight.find((f) => !f.over) ?? this.inFlight[this.inFlight.length - 1];
  }

  /** Waits until every cycle sent is answered, and lets go of them. */
  private async settle(): Promise<void> {
    while (this.inFlight.length) {
      await this.inFlight[0]!.done;
      this.inFlight.shift();
    }
  }

  /** Waits until the store may take one more cycle (fewer than `depth` under way), and lets go of those answered. */
  private async room(): Promise<void> {
    while (this.underWay() >= this.depth) await this.oldest()!.done;
    for (let i = this.inFlight.length - 1; i >= 0; i--) if (this.inFlight[i]!.over) this.inFlight.splice(i, 1);
  }

  /** Sends `cycle` to the store, behind those under way (`depth`). */
  private launch(cycle: Cycle, lease: AppendLease | null): void {
    const sent: InFlight = { cycle, done: Promise.resolve(false), landed: false, over: false };
    this.inFlight.push(sent);
    const committed = lease ? this.commit(cycle, lease).finally(() => lease.release()) : this.commit(cycle);
    sent.done = committed.then((ok) => { sent.over = true; return ok; });
  }

  /** The store answered `cycle` (or failed it). */
  private landed(cycle: Cycle): void {
    const sent = this.inFlight.find((f) => f.cycle === cycle);
    if (sent) sent.landed = true;
  }

  /** A storage failure answers the requests involved with 503 and forgets every optimistic assumption. */
  private async guard(jobs: Job[], work: () => Promise<void>) {
    try {
      await work();
    } catch (e) {
      this.forgetUncommitted();
      const refusal = this.unavailable(e instanceof Error ? e.message : String(e));
      for (const j of jobs) j.done(left(refusal));
    }
  }

  private forgetUncommitted() {
    this.failures++;
    this.keys.discard();
    this.revisions.clear();
    this.planned.clear();
    this.hashes.clear();
    this.plannedHashes.clear();
    // The events of cycles still under way stay pending: a request repeating one still waits for its outcome.
    this.uncommitted.clear();
    for (const { cycle, landed } of this.inFlight) if (!landed) for (const k of cycle.pending) this.uncommitted.add(k);
  }

  /**
   * A commit before this cycle failed: it was prepared on its assumptions, so prepare it again, its
   * requests back in the order they arrived among those sent back meanwhile (a cycle that waited at the
   * store behind the failed one is sent back by the store, and its requests are older).
   */
  private replan(cycle: Cycle) {
    this.forgetUncommitted();
    this.requeue(cycle.plans.flatMap((p) => p.jobs.map((j) => j.job)));
  }

  /** Puts requests back in the queue, in the order they arrived among those waiting. */
  private requeue(jobs: readonly Job[]) {
    this.queue.unshift(...jobs);
    this.queue.sort((a, b) => a.started - b.started);
  }

  private async lastRevision(tenant: string): Promise<number | null> {
    const known = this.planned.get(tenant) ?? this.revisions.get(tenant);
    if (known !== undefined) return known;
    const r = await this.store.streamRevision(tenantStream(tenant));
    if (r !== null) this.revisions.set(tenant, r);
    return r;
  }

  /** Leaf hash of the entry at `last`, the one the next entry chains to (`prev`); undefined for an empty log. */
  private async lastHash(tenant: string, last: number | null): Promise<string | undefined> {
    if (last === null || last < 0) return undefined;
    const known = this.plannedHashes.get(tenant) ?? this.hashes.get(tenant);
    if (known !== undefined) return known;
    const [entry] = await this.store.readStream(tenantStream(tenant), last, 1);
    if (!entry || entry.revision !== last) throw new Error('the tenant log moved while its last entry was read');
    const h = leafHash(entry.data).toString('hex');
    this.hashes.set(tenant, h);
    return h;
  }

  private retryOrRefuse(job: Job) {
    job.attempts++;
    if (job.attempts >= MAX_ATTEMPTS) job.done(left(this.unavailable('the tenant log kept moving under concurrent writers')));
    else this.queue.unshift(job);
  }

  /**
   * Decides administrative requests and commits what they decided: one request, or several independent
   * ones together (one append per tenant, all in one transaction).
   */
  private async runAdmin(jobs: readonly AdminJob[]) {
    const byTenant = new Map<string, Array<{ job: AdminJob; decision: AdminDecision<unknown> }>>();
    for (const job of jobs) {
      const decided = await job.run();
      if (decided._tag === 'Left') { job.done(decided); continue; }
      if (decided.right.drafts.length === 0) { job.done(right(decided.right.answer([]))); continue; }
      pushTo(byTenant, job.tenant, { job, decision: decided.right });
    }
    if (byTenant.size === 0) return;
    const recordedAt = this.clock.now().toISOString();
    const plans: Array<{ tenant: string; last: number | null; hashes: string[]; parts: Array<{ job: AdminJob; decision: AdminDecision<unknown>; entries: LogEntry[] }> }> = [];
    const appends: StreamAppend[] = [];
    for (const [tenant, decided] of byTenant) {
      const last = await this.lastRevision(tenant);
      let position = (last ?? -1) + 1;
      const parts = decided.map(({ job, decision }) => ({ job, decision, drafts: decision.drafts.map((d) => ({ ...d, v: 1, tenant, position: position++, recordedAt }) as LogEntry) }));
      const head = await this.lastHash(tenant, last);
      const linked = link(parts.flatMap((p) => p.drafts), (last ?? -1) + 1, head);
      const events: NewEvent[] = linked.map(toNewEvent);
      const hashes = linked.map((l) => l.hash);
      let at = 0;
      plans.push({ tenant, last, hashes, parts: parts.map((p) => ({ job: p.job, decision: p.decision, entries: events.slice(at, (at += p.drafts.length)).map((e) => e.context as LogEntry) })) });
      appends.push({ stream: tenantStream(tenant), expectedRevision: last ?? 'no_stream', events, ...(head ? { expectedHead: head } : {}) });
    }
    const outcomes = await this.store.append(appends);
    plans.forEach((plan, i) => {
      const outcome = outcomes[i]!;
      if (outcome._tag === 'Appended') {
        this.contended = 0;
        this.revisions.set(plan.tenant, outcome.lastRevision);
        this.hashes.set(plan.tenant, plan.hashes[plan.hashes.length - 1]!);
        this.committed(plan.tenant, true);
        // One commit of the tenant's entries, timed from the earliest request it answers.
        this.metrics?.committed(plan.hashes.length, (performance.now() - Math.min(...plan.parts.map((p) => p.job.started))) / 1000);
        for (const { decision, job, entries } of plan.parts) job.done(right(decision.answer(entries)));
      } else if (outcome._tag === 'WrongExpectedRevision') {
        this.forgetUncommitted();
        this.contended++;
        for (const { job } of plan.parts) this.retryOrRefuse(job);
      } else for (const { job } of plan.parts) job.done(left(this.unavailable('an administrative entry id was reused')));
    });
  }

  /**
   * Decides every request of the cycle and builds its entries; nothing is written yet. `deferred`: some
   * requests repeat an event of a cycle not committed yet, and went back to the queue to wait for it.
   */
  private async prepare(jobs: ProcessingJob[]): Promise<{ cycle: Cycle | null; deferred: boolean }> {
    const started = performance.now();
    const recordedAt = this.clock.now().toISOString();
    const byTenant = new Map<string, ProcessingJob[]>();
    const waiting: ProcessingJob[] = [];
    for (const j of jobs) {
      // A request repeating an event of the cycle being committed is decided once that cycle is done.
      if (this.uncommitted.size && j.events.some((e) => this.uncommitted.has(pendingKey(j.tenant, e.eventId)))) waiting.push(j);
      else pushTo(byTenant, j.tenant, j);
    }
    const plans: TenantPlan[] = [];
    const pending: string[] = [];
    for (const [tenant, tjobs] of byTenant) {
      const last = await this.lastRevision(tenant);
      if (last === null) {
        for (const j of tjobs) j.done(left({ _tag: 'UnknownTenant', tenant }));
        continue;
      }
      const plan = await this.plan(tenant, last, tjobs, recordedAt, await this.lastHash(tenant, last));
      plans.push(plan);
      if (plan.events.length) {
        this.planned.set(tenant, last + plan.events.length);
        this.plannedHashes.set(tenant, plan.lastHash!);
      }
      for (const e of plan.events) pending.push(pendingKey(tenant, e.eventId));
    }
    if (waiting.length) this.queue.unshift(...waiting);
    const deferred = waiting.length > 0;
    if (plans.length === 0) return { cycle: null, deferred };
    for (const k of pending) this.uncommitted.add(k);
    return { cycle: { started, plans, pending, generation: this.failures }, deferred };
  }

  /** Makes the cycle's keys durable, then its entries, then answers its requests. */
  private async commit(cycle: Cycle, lease?: AppendLease): Promise<boolean> {
    const { plans, started } = cycle;
    const jobs = plans.flatMap((p) => p.jobs.map((j) => j.job));
    // This cycle's append goes to the store after the append of the cycle launched before it (`sending`).
    const before = this.sending;
    let sent = () => undefined as void;
    this.sending = new Promise<void>((r) => { sent = r; });
    try {
      await this.keys.commit();
      const live = plans.filter((p) => p.events.length > 0);
      await before;
      const appended = live.length
        // Processing entries depend on nothing before them: where the store can, another process's appends meanwhile do not send them back.
        ? (lease ?? this.store).append(live.map((p) => ({
          stream: tenantStream(p.tenant), expectedRevision: p.expected, events: p.events, relink: true, ...(p.head ? { expectedHead: p.head } : {}),
        })))
        : Promise.resolve([]);
      sent();
      const outcomes = await appended;
      this.landed(cycle);
      let whole = true;
      const committed = new Set<TenantPlan>();
      const relinked = new Map<TenantPlan, Map<string, { position: number; hash: string }>>();
      live.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o._tag === 'Appended') {
          // Placed after other processes' entries (relinked): its own positions and hashes, for the answers and what follows.
          if (o.relinked) relinked.set(p, new Map(p.events.map((e, k) => [e.eventId, { position: o.firstRevision + k, hash: o.relinked![k]! }])));
          this.revisions.set(p.tenant, o.lastRevision);
          this.hashes.set(p.tenant, o.relinked ? o.relinked[o.relinked.length - 1]! : p.lastHash!);
          this.committed(p.tenant, false);
          // Nothing prepared on top of this cycle: what was planned is now what is. (A cycle prepared on top of a
          // relinked one expects a revision the log has passed, so it is relinked in turn, never appended as planned.)
          const planned = this.planned.get(p.tenant);
          if (planned === o.lastRevision || (o.relinked && planned === p.expected + p.events.length)) {
            this.planned.delete(p.tenant);
            this.plannedHashes.delete(p.tenant);
          }
          committed.add(p);
          // The blind index lags the log by design; what a failure loses is rebuilt from the log at the next start.
          this.keys.addIndexEntries(p.tenant, p.index, o.lastRevision).catch(() => this.metrics?.indexLagged?.());
        } else {
          whole = false;
          for (const { job } of p.jobs) this.retryOrRefuse(job);
        }
      });
      for (const k of cycle.pending) this.uncommitted.delete(k);
      if (!whole) this.forgetUncommitted();
      this.contended = whole ? 0 : this.contended + 1;
      const total = live.filter((p) => committed.has(p)).reduce((n, p) => n + p.events.length, 0);
      if (total) this.metrics?.committed(total, (performance.now() - started) / 1000);
      for (const p of plans) {
        if (p.events.length > 0 && !committed.has(p)) continue;
        const said = p.events.length ? (outcomes[live.indexOf(p)] as { annotations?: Record<string, Record<string, unknown>> }).annotations : undefined;
        const moved = relinked.get(p);
        for (const { job, results } of p.jobs) {
          this.metrics?.answered((performance.now() - job.started) / 1000);
          // A repeat of an event of this same cycle ('duplicate') gets the findings, position and hash of its first copy too.
          const placed = moved ? results.map((r) => (moved.has(r.eventId) ? { ...r, ...moved.get(r.eventId)! } : r)) : results;
          job.done(right(said ? placed.map((r) => (said[r.eventId]?.compliance ? { ...r, findings: said[r.eventId]!.compliance as Finding[] } : r)) : placed));
        }
      }
      return whole;
    } catch (e) {
      // Still after the cycle before: one launched after this one waits for both.
      void before.then(sent);
      this.landed(cycle);
      this.forgetUncommitted();
      // Another process created one of these keys first: nothing was written; prepared again, with its key.
      if (e instanceof KeyRace) {
        this.contended++;
        for (const j of jobs) this.retryOrRefuse(j);
      } else {
        const refusal = this.unavailable(e instanceof Error ? e.message : String(e));
        for (const j of jobs) j.done(left(refusal));
      }
      return false;
    }
  }

  /**
   * Decides, per request, which events are new, duplicates or conflicts, and builds the new entries.
   * The new events of every request of the cycle are sealed together: one look-up of their data keys
   * (a query per cycle, not per request, where keys are not cached).
   */
  private async plan(tenant: string, last: number, jobs: ProcessingJob[], recordedAt: string, prev: string | undefined): Promise<TenantPlan> {
    const stream = tenantStream(tenant);
    const ids = [...new Set(jobs.flatMap((j) => j.events.map((e) => e.eventId)))];
    const stored = new Map((await this.store.findByEventIds(stream, ids)).map((r) => [r.eventId, r] as const));
    const storedFindings = stored.size ? await this.findingsOf(tenant, [...stored.keys()]) : new Map<string, readonly Finding[]>();
    const inCycle = new Map<string, ProcessingEvent>();
    const accepted: Array<{ job: ProcessingJob; decided: Decided[] }> = [];
    for (const job of jobs) {
      const decided: Decided[] = [];
      const conflicts: string[] = [];
      for (const ev of job.events) {
        const prior = stored.get(ev.eventId);
        const pending = inCycle.get(ev.eventId);
        if (prior) {
          const same = await this.sameAsStored(tenant, ev, prior);
          if (same) decided.push({ eventId: ev.eventId, status: 'duplicate', position: prior.revision, hash: leafHash(prior.data).toString('hex'), findings: storedFindings.get(ev.eventId) ?? [] });
          else conflicts.push(ev.eventId);
        } else if (pending) {
          if (sameSubmission(ev, pending)) decided.push({ sameAs: ev.eventId });
          else conflicts.push(ev.eventId);
        } else decided.push(ev);
      }
      if (conflicts.length) {
        job.done(left({ _tag: 'ConflictingDuplicate', eventIds: conflicts }));
        continue;
      }
      for (const d of decided) if (isFresh(d)) inCycle.set(d.eventId, d);
      accepted.push({ job, decided });
    }
    const fresh = accepted.flatMap((a) => a.decided.filter(isFresh));
    const { sealed, index } = await this.vault.sealAll(tenant, fresh.map((e) => ({ eventId: e.eventId, subject: e.subject })));
    const plan: TenantPlan = { tenant, expected: last, head: prev, events: [], index, jobs: [] };
    const byId = new Map<string, RecordResult>();
    let next = last + 1;
    fresh.forEach((ev, i) => {
      // Keys in canonical order, `prev` included: JSON.stringify then writes the canonical bytes as they are.
      const entry: ProcessingEntry = {
        ...(ev.actor ? { actor: ev.actor } : {}),
        categories: ev.categories,
        ...(ev.details ? { details: ev.details } : {}),
        eventId: ev.eventId, occurredAt: ev.occurredAt, position: next++,
        ...(prev === undefined ? {} : { prev }),
        purpose: ev.purpose, recordedAt,
        subject: sealed[i] ? { id: ev.subject.id, identifiers: sealed[i] } : { id: ev.subject.id },
        system: ev.system, tenant, type: ev.type, v: 1,
      };
      const l = linkOne(entry, prev);
      prev = l.hash;
      plan.lastHash = prev;
      plan.events.push(toNewEvent(l));
      byId.set(ev.eventId, { eventId: ev.eventId, status: 'recorded', position: entry.position, hash: prev, findings: [] });
    });
    for (const { job, decided } of accepted) {
      plan.jobs.push({ job, results: decided.map((d) => ('sameAs' in d ? { ...byId.get(d.sameAs)!, status: 'duplicate' as const } : isFresh(d) ? byId.get(d.eventId)! : d)) });
    }
    return plan;
  }

  private async sameAsStored(tenant: string, ev: ProcessingEvent, prior: RecordedEvent): Promise<boolean> {
    const entry = entryOf(prior);
    if (!('subject' in entry)) return false;
    const identifiers = entry.subject.identifiers ? await this.vault.openAll(tenant, entry.subject.id, entry.eventId, entry.subject.identifiers) : undefined;
    return sameSubmission(ev, submittedForm(entry, identifiers));
  }
}
