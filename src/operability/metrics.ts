import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WriterMetrics } from '../ledger/application/ledger-writer.js';
import type { Finding } from '../compliance/domain/finding.js';

/** Prometheus metrics of the ledger: what was recorded, in which commit sizes, how fast it was answered. */
export class LedgerMetrics implements WriterMetrics {
  readonly registry = new Registry();
  private readonly recorded = new Counter({ name: 'pdl_events_recorded_total', help: 'Log entries committed', registers: [this.registry] });
  private readonly commitSize = new Histogram({
    name: 'pdl_commit_batch_events', help: 'Log entries per group commit', registers: [this.registry],
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
  });
  private readonly commitSeconds = new Histogram({
    name: 'pdl_commit_duration_seconds', help: 'Time to build and durably commit one group', registers: [this.registry],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
  });
  private readonly appendSeconds = new Histogram({
    name: 'pdl_append_latency_seconds', help: 'Time from an append request entering the queue to its durable answer', registers: [this.registry],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  private readonly indexLag = new Counter({ name: 'pdl_blind_index_deferred_total', help: 'Blind-index writes that failed after a commit (completed from the log at next start)', registers: [this.registry] });
  /** Checkpoints signed, and refused because the stored tree no longer extends the last signed one. */
  readonly checkpointsSigned = new Counter({ name: 'pdl_checkpoints_signed_total', help: 'Signed tree heads produced', registers: [this.registry] });
  readonly checkpointsRefused = new Counter({ name: 'pdl_checkpoints_refused_total', help: 'Checkpoints refused: the stored log does not extend the last signed one (integrity violation)', registers: [this.registry] });
  readonly appendRequestSize = new Histogram({
    name: 'pdl_append_request_events', help: 'Events per append request', registers: [this.registry],
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
  });

  /** What the compliance engine found in what was recorded: a dashboard's view of policy breaches as they happen. */
  private readonly findingsRaised = new Counter({
    name: 'pdl_findings_raised_total', help: 'Findings raised by the processing events recorded, by finding code and severity (every tenant)', registers: [this.registry],
    labelNames: ['code', 'severity'] as const,
  });
  /** HTTP requests by route pattern (never a path: it may hold a subject id) and status. */
  private readonly httpRequests = new Counter({
    name: 'pdl_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status', registers: [this.registry],
    labelNames: ['method', 'route', 'status'] as const,
  });
  private readonly httpSeconds = new Histogram({
    name: 'pdl_http_request_duration_seconds', help: 'Time to answer an HTTP request, by method and route pattern', registers: [this.registry],
    labelNames: ['method', 'route'] as const, buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });

  private readonly grpcRequests = new Counter({
    name: 'pdl_grpc_requests_total', help: 'gRPC calls answered (each message of AppendStream counted as one), by method and status code', registers: [this.registry],
    labelNames: ['method', 'code'] as const,
  });
  private readonly grpcSeconds = new Histogram({
    name: 'pdl_grpc_request_duration_seconds', help: 'Time to answer a gRPC call (or an AppendStream message), by method', registers: [this.registry],
    labelNames: ['method'] as const, buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pdl_' });
  }

  /** Reports the storage worker's heap (it is not in the process's default heap metrics, which are the main thread's). */
  watchWorkerHeap(read: () => Promise<{ used: number; total: number } | null>): void {
    let last: { used: number; total: number } | null = null;
    const gauge = (name: string, help: string, pick: (h: { used: number; total: number }) => number) => new Gauge({
      name, help, registers: [this.registry],
      async collect() {
        try { last = (await read()) ?? last; } catch { /* the worker is gone: keep the last reading */ }
        if (last) this.set(pick(last));
      },
    });
    gauge('pdl_storage_worker_heap_used_bytes', 'Heap used by the storage worker thread', (h) => h.used);
    gauge('pdl_storage_worker_heap_total_bytes', 'Heap size of the storage worker thread', (h) => h.total);
  }

  committed(events: number, seconds: number): void {
    this.recorded.inc(events);
    this.commitSize.observe(events);
    this.commitSeconds.observe(seconds);
  }

  indexLagged(): void {
    this.indexLag.inc();
  }

  answered(seconds: number): void {
    this.appendSeconds.observe(seconds);
  }

  raised(findings: readonly Finding[]): void {
    for (const f of findings) this.findingsRaised.inc({ code: f.code, severity: f.severity });
  }

  /** `code`: the gRPC status code's name (`OK`, `INVALID_ARGUMENT`, …). */
  servedGrpc(method: string, code: string, seconds: number): void {
    this.grpcRequests.inc({ method, code });
    this.grpcSeconds.observe({ method }, seconds);
  }

  /** `route`: the matched route's pattern, or `unmatched`. */
  served(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status });
    this.httpSeconds.observe({ method, route }, seconds);
  }
}
