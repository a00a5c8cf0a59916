import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { jsonRequest } from '../../src/common/http/json-request.js';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** `n` ports free now, all different: held open together, so that none is handed out twice. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  const ports = await Promise.all(servers.map((s) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)))));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export const freePort = async (): Promise<number> => (await freePorts(1))[0]!;

export const tempDir = (prefix = 'pdl-test-') => mkdtempSync(join(tmpdir(), prefix));

export interface LedgerProcess {
  readonly base: string;
  readonly grpcPort: number;
  readonly dataDir: string;
  readonly adminToken: string;
  readonly proc: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `tls`: served over TLS with `PDL_TLS_CERT`/`PDL_TLS_KEY` (in `env`), its certificate signed by `ca`, which this process's requests trust. */
type StartOptions = { dataDir?: string; adminToken?: string; env?: Record<string, string>; upWhen?: (healthStatus: number) => boolean; tls?: { ca: Buffer } };

/**
 * Starts the built ledger as a user does (`pdl serve`), on free ports and a data directory of its own;
 * started again on other ports when another process took one of them between their choice and the start.
 */
export async function startLedger(options: StartOptions = {}): Promise<LedgerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      if (attempt === 3 || !(e instanceof Error) || !e.message.includes('EADDRINUSE')) throw e;
    }
  }
}

async function startOnce(options: StartOptions): Promise<LedgerProcess> {
  const up = options.upWhen ?? ((status) => status === 200);
  const [httpPort, grpcPort] = await freePorts(2) as [number, number];
  const dataDir = options.dataDir ?? tempDir();
  const adminToken = options.adminToken ?? `root-${randomUUID()}`;
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'pdl.js'), 'serve'], {
    env: { ...process.env, NODE_OPTIONS: '', PDL_DATA_DIR: dataDir, PDL_HTTP_PORT: String(httpPort), PDL_GRPC_PORT: String(grpcPort), PDL_ADMIN_TOKEN: adminToken, PDL_HOST: '127.0.0.1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const base = `${options.tls ? 'https' : 'http'}://127.0.0.1:${httpPort}`;
  if (options.tls) tlsAgents.set(base, new https.Agent({ keepAlive: true, maxSockets: 64, ca: options.tls.ca }));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`ledger exited: ${out.slice(-500)}`);
    try {
      if (up((await request(base, 'GET', '/health')).status)) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`ledger did not start: ${out.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base, grpcPort, dataDir, adminToken, proc,
    output: () => out,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode) return resolve();
      proc.once('exit', () => resolve());
      proc.kill(signal);
    }),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** The agents of ledgers served over TLS, by base URL (each trusts its ledger's certificate authority). */
const tlsAgents = new Map<string, https.Agent>();

export interface Answer { status: number; type: string; text: string; json: any; headers: http.IncomingHttpHeaders }

export function request(base: string, method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return jsonRequest(base, method, path, { body, ...(token ? { token } : {}), headers, agent: tlsAgents.get(base) ?? agent });
}

export const client = (base: string, token?: string) => (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(base, method, path, body, token, headers);

/**
 * Runs the built `pdl` with `args` (asynchronously: it may talk to a ledger served by a child of this test
 * process, whose output must keep being read meanwhile).
 */
export function runPdl(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'pdl.js'), ...args], { env: { ...process.env, NODE_OPTIONS: '', ...env } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}
