import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSeed } from '../integrity/signing-keys.js';

export interface PdlConfig {
  readonly store: 'sqlite' | 'postgres' | 'eventstoredb';
  readonly dataDir: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly host: string;
  readonly adminToken: string | undefined;
  readonly masterKey: string | undefined;
  readonly logLevel: string;
  /** Names the ledger in checkpoint origins (`<name>/<tenant>`) and names its signing keys. */
  readonly ledgerName: string;
  readonly signingKey: string | undefined;
  /** How often changed tenant logs get a new signed checkpoint; 0: after every commit. */
  readonly checkpointIntervalMs: number;
  /** How many days before its deadline a holding is reported `due-soon`. */
  readonly dueSoonDays: number;
  /** How often recorded erasures are swept and keys whose legal hold ended are destroyed; 0: only once at start-up. */
  readonly retentionEnforceIntervalMs: number;
  /** `postgres://…` of the database (PDL_STORE=postgres, and the read models and keys with eventstoredb). */
  readonly postgresUrl: string | undefined;
  /** `esdb://…` of the EventStoreDB cluster (PDL_STORE=eventstoredb). */
  readonly esdbUrl: string | undefined;
  /** PEM files of the certificate (chain) and private key HTTP and gRPC are served with over TLS; none: in clear. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
}

/** `value`, once `check` (which throws saying what is wrong) accepts it. */
function checked(value: string, check: (v: string) => unknown): string {
  check(value);
  return value;
}

/** The fewest characters a bootstrap admin token may have: it creates tenants and their tokens. */
export const ADMIN_TOKEN_MIN_LENGTH = 16;

/** `PDL_ADMIN_TOKEN`: long enough not to be guessed, and carried as it is by an HTTP header and gRPC metadata. */
function adminToken(value: string): void {
  if (value.length < ADMIN_TOKEN_MIN_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw new Error(`PDL_ADMIN_TOKEN must be at least ${ADMIN_TOKEN_MIN_LENGTH} visible ASCII characters, without spaces (a random one: openssl rand -hex 32)`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `PDL_LOG_LEVEL`: one of pino's levels (which, told another, says only that its "custom levels" lack it). */
function logLevel(value: string): void {
  if (!LOG_LEVELS.includes(value)) throw new Error(`PDL_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
}

function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0-65535)`);
  return n;
}

function ledgerName(value: string | undefined): string {
  const name = value || 'pdl.local';
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new Error('PDL_LEDGER_NAME must be 1-100 letters, digits, dots, dashes or underscores');
  return name;
}

function interval(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 86_400_000) throw new Error(`${name} must be a number of milliseconds (0-86400000)`);
  return n;
}

function days(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 3650) throw new Error(`${name} must be a number of days (0-3650)`);
  return n;
}

/** Reads the environment once, at start; every setting is documented in the README. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PdlConfig {
  const store = (env.PDL_STORE ?? 'sqlite') as PdlConfig['store'];
  if (!['sqlite', 'postgres', 'eventstoredb'].includes(store)) throw new Error('PDL_STORE must be sqlite, postgres or eventstoredb');
  const postgresUrl = env.PDL_POSTGRES_URL || undefined;
  const esdbUrl = env.PDL_ESDB_URL || undefined;
  if (store !== 'sqlite' && !postgresUrl) throw new Error(`PDL_STORE=${store} needs PDL_POSTGRES_URL (postgres://user@host:5432/database)`);
  if (postgresUrl && !/^postgres(ql)?:\/\//.test(postgresUrl)) throw new Error('PDL_POSTGRES_URL must be a postgres:// connection string');
  if (store === 'eventstoredb' && !esdbUrl) throw new Error('PDL_STORE=eventstoredb needs PDL_ESDB_URL (esdb://host:2113?tls=false)');
  const [certFile, keyFile] = [env.PDL_TLS_CERT || undefined, env.PDL_TLS_KEY || undefined];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new Error('PDL_TLS_CERT and PDL_TLS_KEY go together: the PEM files of the certificate and of its private key');
  return {
    store,
    dataDir: resolve(env.PDL_DATA_DIR || './data'),
    httpPort: port('PDL_HTTP_PORT', env.PDL_HTTP_PORT, 3000),
    grpcPort: port('PDL_GRPC_PORT', env.PDL_GRPC_PORT, 50051),
    host: env.PDL_HOST || '0.0.0.0',
    adminToken: env.PDL_ADMIN_TOKEN ? checked(env.PDL_ADMIN_TOKEN, adminToken) : undefined,
    masterKey: env.PDL_MASTER_KEY || undefined,
    logLevel: env.PDL_LOG_LEVEL ? checked(env.PDL_LOG_LEVEL, logLevel) : 'info',
    ledgerName: ledgerName(env.PDL_LEDGER_NAME),
    signingKey: env.PDL_SIGNING_KEY ? checked(env.PDL_SIGNING_KEY, parseSeed) : undefined,
    checkpointIntervalMs: interval('PDL_CHECKPOINT_INTERVAL_MS', env.PDL_CHECKPOINT_INTERVAL_MS, 1000),
    dueSoonDays: days('PDL_RETENTION_DUE_SOON_DAYS', env.PDL_RETENTION_DUE_SOON_DAYS, 7),
    retentionEnforceIntervalMs: interval('PDL_RETENTION_ENFORCE_INTERVAL_MS', env.PDL_RETENTION_ENFORCE_INTERVAL_MS, 60_000),
    postgresUrl,
    esdbUrl,
    tls: certFile && keyFile ? { certFile: resolve(certFile), keyFile: resolve(keyFile) } : undefined,
  };
}
export const CONFIG = Symbol('PdlConfig');

const tlsRead = new WeakMap<PdlConfig, { cert: Buffer; key: Buffer }>();

/**
 * The certificate and key of `config.tls`, read once per configuration (a clear error when they cannot
 * be): HTTPS and gRPC serve the same pair even if the files are replaced while the ledger starts.
 */
export function tlsMaterial(config: PdlConfig): { cert: Buffer; key: Buffer } | undefined {
  if (!config.tls) return undefined;
  const known = tlsRead.get(config);
  if (known) return known;
  const read = (file: string, what: string) => {
    try { return readFileSync(file); } catch (e) { throw new Error(`cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  };
  const material = { cert: read(config.tls.certFile, 'certificate (PDL_TLS_CERT)'), key: read(config.tls.keyFile, 'private key (PDL_TLS_KEY)') };
  tlsRead.set(config, material);
  return material;
}
