import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answerClientError, answerFrameworkError } from './api/http/client-error.js';
import { makeDirectory } from './common/fs/make-directory.js';
import { ProblemFilter, sendProblem } from './api/http/problem.filter.js';
import { shuttingDown } from './api/http/problem.js';
import { GrpcServer } from './api/grpc/grpc-server.js';
import { AppModule } from './app.module.js';
import { tlsMaterial, type PdlConfig } from './config/config.js';
import { loadMasterKey } from './keys/master-key.js';
import { LIMITS } from './ledger/domain/limits.js';
import { createLogger, NestJsonLogger } from './operability/logger.js';
import { LedgerMetrics } from './operability/metrics.js';
import { sharedSecrets } from './storage/postgres/pg-secrets.js';

/** `PDL_ADMIN_TOKEN`, or a token generated once into `<data dir>/admin-token` (0600). */
function rootToken(config: PdlConfig): { token: string; file: string | null } {
  if (config.adminToken) return { token: config.adminToken, file: null };
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), file };
  const token = `pdl_admin_${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, file };
}

export interface RunningLedger {
  readonly app: NestFastifyApplication;
  readonly httpUrl: string;
  readonly grpcPort: number;
  close(): Promise<void>;
}

/** Starts the ledger: HTTP (Fastify) and gRPC on one process, over the configured store. */
export async function startLedger(given: PdlConfig): Promise<RunningLedger> {
  const log = createLogger(given.logLevel);
  let config = given;
  if (config.store !== 'sqlite' && (!config.masterKey || !config.signingKey)) {
    // Processes sharing a database must share these; without the environment's, the database keeps them.
    const shared = await sharedSecrets(config.postgresUrl!);
    config = { ...config, masterKey: config.masterKey ?? shared.masterKey, signingKey: config.signingKey ?? shared.signingSeed };
    log.warn('PDL_MASTER_KEY or PDL_SIGNING_KEY is not set: using the ones kept in PostgreSQL (schema pdl_secrets), shared by every ledger process of this database; in production, give both through the environment');
  }
  // Read before anything is written: a certificate that cannot be read stops the start with nothing made.
  const tls = tlsMaterial(config);
  makeDirectory(config.dataDir, 0o700);
  const root = rootToken(config);
  const { master, created } = loadMasterKey(config.masterKey, config.dataDir);
  if (created) log.warn({ file: created }, 'created a master key file; keep it apart from backups of the log');
  const adapter = new FastifyAdapter({
    // No HEAD twin of every GET: a HEAD runs the whole GET, so a report asked with HEAD was decrypted and
    // recorded in the access log as read, though nothing was sent. `/health` takes HEAD (its controller).
    exposeHeadRoutes: false,
    bodyLimit: LIMITS.bodyBytes, routerOptions: { maxParamLength: 512 }, return503OnClosing: false, clientErrorHandler: answerClientError, frameworkErrors: answerFrameworkError,
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, { rootToken: root.token, master }, log), adapter, {
    logger: new NestJsonLogger(log),
    bufferLogs: false,
    // Bodies are JSON only (Fastify's own parser): Nest would add a form parser, and Fastify has one for
    // text. A form's or a text's body came to the codecs as something else than JSON, and a form's was
    // repeated back as the name of an unknown field, personal data included; now each is a 415.
    bodyParser: false,
  });
  app.useGlobalFilters(new ProblemFilter(log));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('text/plain');
  const metrics = app.get(LedgerMetrics);
  fastify.addHook('onResponse', (req, reply, done) => {
    // Route pattern only: paths and query strings may carry subject ids or identifiers. A line per request
    // answered well is for debugging (at thousands of appends a second, writing it cost a tenth of the
    // ingest rate; `/metrics` counts them): refused and failed requests are the ones shown by default.
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.served(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    log[reply.statusCode >= 400 ? 'info' : 'debug']({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    done();
  });
  // Stopping (SIGTERM), the server finishes the requests in flight and closes idle connections; a request
  // that still arrives on an open one gets a problem document (Fastify's own 503 is not one) with
  // `Retry-After`, and its connection closed.
  let draining = false;
  fastify.addHook('preClose', (done) => { draining = true; done(); });
  fastify.addHook('onRequest', (_req, reply, done) => {
    // Answers carry personal data (reports, identifiers, subject ids): no browser or proxy keeps a copy.
    void reply.header('cache-control', 'no-store');
    if (!draining) return done();
    sendProblem(reply, shuttingDown().problem);
  });
  app.enableShutdownHooks();
  try {
    await app.listen(config.httpPort, config.host);
  } catch (e) {
    // The port is taken, say: gRPC and the store are let go, so that the process ends with the error.
    await app.close().catch(() => undefined);
    throw e;
  }
  const grpcPort = app.get(GrpcServer).port;
  const address = fastify.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  log.info({ http: httpPort, grpc: grpcPort, tls: tls !== undefined, dataDir: config.dataDir, store: config.store, ...(root.file ? { adminTokenFile: root.file } : {}) },
    root.file ? `pdl is serving; the admin token is in ${root.file}` : 'pdl is serving');
  return { app, httpUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${httpPort}`, grpcPort, close: () => app.close() };
}
