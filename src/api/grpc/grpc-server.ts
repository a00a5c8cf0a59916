import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { CONFIG, tlsMaterial, type PdlConfig } from '../../config/config.js';
import { RecordEvents } from '../../ingestion/application/record-events.js';
import { decodeAppendBody } from '../../ledger/domain/processing-event.js';
import type { RecordResult } from '../../ledger/domain/record-outcome.js';
import { LOGGER } from '../../operability/logger.js';
import { LedgerMetrics } from '../../operability/metrics.js';
import { Access } from '../http/access.js';
import { Decide, type DecisionAnswer } from '../../decisions/application/decide.js';
import { DecisionBody } from '../../decisions/domain/decision.js';
import { decodeWith } from '../../common/kernel/codec.js';

interface DecisionRequest {
  tenant?: string; subject?: { id?: string }; type?: string; purpose?: string; categories?: string[]; system?: string;
  recipient?: string; authorityRequestId?: string; at?: string;
}
import { ProblemError, invalid, malformedBody, problemOf, shuttingDown } from '../http/problem.js';
import { eventFromProto } from './proto-event.js';
import { toProblem } from '../http/problem.filter.js';

export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'proto');

const STATUS_OF: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT, 401: grpc.status.UNAUTHENTICATED, 403: grpc.status.PERMISSION_DENIED, 404: grpc.status.NOT_FOUND,
  409: grpc.status.ALREADY_EXISTS, 413: grpc.status.RESOURCE_EXHAUSTED, 503: grpc.status.UNAVAILABLE,
};
/** The gRPC status of a problem's HTTP status (INTERNAL for any other). */
const codeOf = (status: number): grpc.status => STATUS_OF[status] ?? grpc.status.INTERNAL;

type AppendRequest = { tenant?: string; events?: Array<Record<string, unknown>> };
type AppendResponse = { results?: Array<Omit<RecordResult, 'position'> & { position: number }>; error?: { status: number; title: string; detail: string; errors: unknown[] } };

/** What a request message that is not valid protobuf of its type decodes to (see `withMalformedAnswered`). */
class MalformedMessage {
  constructor(readonly method: string, readonly type: string) {}
}

/**
 * The service with every request deserializer made total: bytes that are not a valid message of the
 * method's request type decode to a `MalformedMessage` instead of throwing, which grpc-js would answer
 * INTERNAL ("Error deserializing request"); the handlers answer INVALID_ARGUMENT, as HTTP answers 400.
 */
function withMalformedAnswered(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(Object.entries(service).map(([name, method]) => {
    // proto-loader's definitions name their request type.
    const type = (method as { requestType?: { type?: { name?: string } } }).requestType?.type?.name ?? 'request';
    return [name, {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch {
          return new MalformedMessage(name, type);
        }
      },
    }];
  }));
}

/** The problem a malformed message is answered with (its bytes and the parser's message are not repeated: they may hold anything). */
const malformed = (m: MalformedMessage) =>
  malformedBody(`The message sent to ${m.method} is not a valid ${m.type} (protobuf, proto/pdl/v1/ledger.proto).`);

/** The gRPC transport: same auth (authorization metadata), same validation, same append path as HTTP. */
@Injectable()
export class GrpcServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: grpc.Server | null = null;
  port = 0;
  /** How to end each open AppendStream once the answers it owes are written (see `beforeApplicationShutdown`). */
  private readonly openStreams = new Set<() => void>();

  constructor(
    private readonly commands: CommandBus,
    private readonly access: Access,
    private readonly metrics: LedgerMetrics,
    @Inject(CONFIG) private readonly config: PdlConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap() {
    const def = loader.loadSync(join(PROTO_DIR, 'pdl/v1/ledger.proto'), { keepCase: false, longs: Number, enums: String, defaults: false, oneofs: true, includeDirs: [PROTO_DIR] });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { pdl: { v1: { Ledger: grpc.ServiceClientConstructor } } };
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
    server.addService(withMalformedAnswered(pkg.pdl.v1.Ledger.service), {
      Append: (call: grpc.ServerUnaryCall<AppendRequest, AppendResponse>, cb: grpc.sendUnaryData<AppendResponse>) =>
        this.unary('Append', this.append(call.request, call.metadata), cb),
      AppendStream: (call: grpc.ServerDuplexStream<AppendRequest, AppendResponse>) => this.stream(call),
      Decide: (call: grpc.ServerUnaryCall<DecisionRequest, DecisionAnswer>, cb: grpc.sendUnaryData<DecisionAnswer>) =>
        this.unary('Decide', this.decide(call.request, call.metadata), cb),
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.config.host}:${this.config.grpcPort}`, this.credentials(), (e, port) => (e ? reject(e) : resolve(port))),
    );
    this.server = server;
    this.log.info({ port: this.port }, 'gRPC listening');
  }

  /** TLS with the configured certificate (`PDL_TLS_CERT`, `PDL_TLS_KEY`), else in clear. */
  private credentials(): grpc.ServerCredentials {
    const tls = tlsMaterial(this.config);
    return tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false) : grpc.ServerCredentials.createInsecure();
  }

  /**
   * Stopping: no new call is taken; each open AppendStream gets the answers it is owed (every batch it sent
   * so far is finished and answered) and then ends with UNAVAILABLE (`shutting-down`), so that its client
   * sends the rest elsewhere (until 2026-12-02 an open stream held the stop back 10 s, then was cut).
   */
  async beforeApplicationShutdown() {
    const s = this.server;
    if (!s) return;
    for (const end of [...this.openStreams]) end();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { s.forceShutdown(); resolve(); }, 10_000);
      s.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
  }

  /** The caller, allowed to do `permission` in `tenant`, from the `authorization` metadata entry. */
  private principal(metadata: grpc.Metadata, tenant: string, permission: Parameters<Access['require']>[2]) {
    const auth = metadata.get('authorization')[0];
    return this.access.require({ headers: { authorization: typeof auth === 'string' ? auth : undefined } } as Parameters<Access['require']>[0], tenant, permission);
  }

  private async decide(req: DecisionRequest | MalformedMessage, metadata: grpc.Metadata): Promise<DecisionAnswer> {
    if (req instanceof MalformedMessage) throw malformed(req);
    const tenant = req.tenant ?? '';
    const by = await this.principal(metadata, tenant, 'ask-decisions');
    const body = {
      subject: { id: req.subject?.id }, type: req.type, purpose: req.purpose, categories: req.categories ?? [], system: req.system,
      ...(req.recipient ? { recipient: req.recipient } : {}), ...(req.authorityRequestId ? { authorityRequestId: req.authorityRequestId } : {}), ...(req.at ? { at: req.at } : {}),
    };
    const decoded = decodeWith(DecisionBody, body);
    if (decoded._tag === 'Left') throw invalid(decoded.left);
    const r = await this.commands.execute(new Decide(tenant, decoded.right, by));
    if (r._tag === 'Left') throw problemOf(r.left);
    return { allowed: r.right.allowed, findings: [...r.right.findings] };
  }

  /** `work`, counted in the metrics under `method` with the status code it is answered with. */
  private counted<R>(method: string, work: Promise<R>): Promise<R> {
    const started = performance.now();
    const served = (code: grpc.status) => this.metrics.servedGrpc(method, grpc.status[code], (performance.now() - started) / 1000);
    return work.then(
      (res) => { served(grpc.status.OK); return res; },
      (e: unknown) => { const p = toProblem(e, this.log); served(codeOf(p.status)); throw new ProblemError(p); },
    );
  }

  /** Answers a unary call with what `work` gives, or with the status of its problem. */
  private unary<R>(method: string, work: Promise<R>, cb: grpc.sendUnaryData<R>): void {
    this.counted(method, work).then((res) => cb(null, res), (e: unknown) => cb(this.toStatus(e)));
  }

  private async append(req: AppendRequest | MalformedMessage, metadata: grpc.Metadata): Promise<AppendResponse> {
    if (req instanceof MalformedMessage) throw malformed(req);
    const tenant = req.tenant ?? '';
    const by = await this.principal(metadata, tenant, 'append-events');
    const raw: unknown[] = [];
    const errors = [];
    for (const [i, m] of (req.events ?? []).entries()) {
      const e = eventFromProto(m, `events[${i}]`);
      if (e._tag === 'Left') errors.push(...e.left);
      else raw.push(e.right);
    }
    if (errors.length) throw invalid(errors);
    const events = decodeAppendBody({ events: raw });
    if (events._tag === 'Left') throw invalid(events.left);
    this.metrics.appendRequestSize.observe(events.right.length);
    const r = await this.commands.execute(new RecordEvents(tenant, events.right, by));
    if (r._tag === 'Left') throw problemOf(r.left);
    return { results: r.right.map((x) => ({ ...x, findings: [...x.findings] })) };
  }

  private stream(call: grpc.ServerDuplexStream<AppendRequest, AppendResponse>) {
    // Answers go out in request order even though batches are committed concurrently.
    let chain = Promise.resolve();
    let ended = false;
    /** The server stops: the stream ends after the answers it owes, with the problem as its status; what comes after is not taken. */
    const stop = () => {
      if (ended) return;
      ended = true;
      this.openStreams.delete(stop);
      chain = chain.then(() => { if (!call.cancelled) call.emit('error', this.toStatus(shuttingDown())); });
    };
    this.openStreams.add(stop);
    call.on('data', (req: AppendRequest | MalformedMessage) => {
      if (ended) return;
      const answer = this.counted('AppendStream', this.append(req, call.metadata)).catch((e: unknown): AppendResponse => {
        const p = toProblem(e, this.log);
        return { results: [], error: { status: p.status, title: p.title, detail: p.detail, errors: [...(p.errors ?? [])] } };
      });
      chain = chain.then(async () => { const res = await answer; if (!call.cancelled) call.write(res); });
    });
    call.on('end', () => { if (!ended) { ended = true; this.openStreams.delete(stop); void chain.then(() => call.end()); } });
    call.on('error', () => { ended = true; this.openStreams.delete(stop); });
    call.on('cancelled', () => { ended = true; this.openStreams.delete(stop); });
  }

  private toStatus(e: unknown): Partial<grpc.StatusObject> {
    const p = toProblem(e, this.log);
    const metadata = new grpc.Metadata();
    metadata.set('problem-bin', Buffer.from(JSON.stringify(p)));
    const details = p.errors?.length ? `${p.detail} ${p.errors.slice(0, 10).map((x) => `${x.path}: ${x.message}`).join('; ')}` : p.detail;
    return { code: codeOf(p.status), details: `${p.title}: ${details}`, metadata };
  }
}
