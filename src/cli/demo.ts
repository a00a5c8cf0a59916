import http from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PdlConfig } from '../config/config.js';
import { DEMO_PURPOSES, DEMO_RECIPIENTS, DEMO_SYSTEMS, DEMO_TENANT } from '../demo/chatbox.js';
import { demoVisitors, type DemoEvent, type DemoVisitor } from '../demo/story.js';
import { UsageError } from './verify.js';
import { jsonRequest } from '../common/http/json-request.js';

export interface DemoOptions {
  readonly visitors: number;
  readonly seed: number;
  readonly tenant: string;
  /** A running ledger; absent: the embedded one of the configured data directory, started in this process. */
  readonly url?: string;
  readonly adminToken?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const call = (base: string, token: string, method: string, path: string, body?: unknown) => jsonRequest(base, method, path, { token, body, agent });

/** A progress bar on a terminal, a line every few seconds otherwise. */
function progress(total: number, write: (s: string) => void, tty: boolean) {
  const started = Date.now();
  let shown = 0;
  return (done: number, final = false) => {
    const now = Date.now();
    if (!final && now - shown < (tty ? 200 : 5000)) return;
    shown = now;
    const rate = Math.round(done / Math.max((now - started) / 1000, 0.001));
    const width = 30, filled = Math.round((width * done) / Math.max(total, 1));
    const line = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.round((100 * done) / Math.max(total, 1))}% ${done}/${total} events, ${rate}/s`;
    write(tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  };
}

const BATCH = 500;
const IN_FLIGHT = 4;

/**
 * `pdl demo`: tells the chat-box story with `visitors` visitors over six simulated months into a
 * running ledger (`--url`, admin token from PDL_ADMIN_TOKEN) or into the embedded one (started here on
 * a free port, stopped at the end); then says what to open. Refuses a tenant that already holds events.
 */
export async function demo(options: DemoOptions, config: PdlConfig, out: (s: string) => void, status: (s: string) => void, tty: boolean): Promise<number> {
  let base = options.url;
  let admin = options.adminToken;
  let stop: (() => Promise<void>) | null = null;
  if (!base) {
    const running = await serveEmbedded(config);
    base = running.url;
    stop = running.stop;
    const file = join(config.dataDir, 'admin-token');
    admin ??= config.adminToken ?? (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
  }
  try {
    if (!admin) throw new UsageError('set PDL_ADMIN_TOKEN to the admin token of the running ledger');
    const P = `/v1/tenants/${options.tenant}`;
    const put = await call(base, admin, 'PUT', P, DEMO_TENANT);
    if (put.status !== 200 && put.status !== 201) throw new UsageError(`could not create the tenant: ${put.status} ${put.text.slice(0, 200)}`);
    const tokens: Record<string, string> = {};
    for (const role of ['dpo', 'legal', 'auditor', 'emitter']) {
      const r = await call(base, admin, 'POST', `${P}/tokens`, { role, label: `pdl demo ${role}` });
      if (r.status !== 201) throw new Error(`could not issue a ${role} token: ${r.status}`);
      tokens[role] = r.json.token;
    }
    if (((await call(base, tokens.auditor!, 'GET', `${P}/events?limit=1`)).json?.items ?? []).length) {
      throw new UsageError(`tenant "${options.tenant}" already holds events; tell the story into another one (--tenant)`);
    }
    for (const [kind, list] of [['systems', DEMO_SYSTEMS], ['recipients', DEMO_RECIPIENTS], ['purposes', DEMO_PURPOSES]] as const) {
      for (const { id, ...body } of list) {
        const r = await call(base, tokens.dpo!, 'PUT', `${P}/${kind}/${id}`, body);
        if (r.status >= 300) throw new Error(`could not declare ${kind} ${id}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
    const started = Date.now();
    const visitors = demoVisitors(options.visitors, options.seed);
    const total = visitors.reduce((n, v) => n + v.events.length + v.flow.reduce((m, s) => m + ('events' in s ? s.events.length : 0), 0), 0);
    const show = progress(total, status, tty);
    let done = 0;
    const send = async (events: DemoEvent[]) => {
      const r = await call(base, tokens.emitter!, 'POST', `${P}/events`, { events });
      if (r.status !== 200) throw new Error(`the ledger refused a batch: ${r.status} ${r.text.slice(0, 300)}`);
      done += events.length;
      show(done);
    };
    // The visitors' own events, whole visitors per batch (their order matters), a few batches in flight;
    // a visitor longer than a batch is told alone, batch after batch.
    const batches: Array<{ events: DemoEvent[]; sent: () => void }> = [];
    const sentOf = new Map<DemoVisitor, Promise<void>>();
    const long: DemoVisitor[] = [];
    let current: { events: DemoEvent[]; sent: () => void; done: Promise<void> } | null = null;
    const open = () => { let sent!: () => void; const done = new Promise<void>((r) => { sent = r; }); return { events: [] as DemoEvent[], sent, done }; };
    for (const v of visitors) {
      if (v.events.length > BATCH) { long.push(v); continue; }
      if (current && current.events.length + v.events.length > BATCH) { batches.push(current); current = null; }
      current ??= open();
      current.events.push(...v.events);
      sentOf.set(v, current.done);
    }
    if (current) batches.push(current);
    let nextBatch = 0;
    const events = (async () => {
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (nextBatch < batches.length) { const b = batches[nextBatch++]!; await send(b.events); b.sent(); }
      }));
      for (const v of long) for (let i = 0; i < v.events.length; i += BATCH) await send(v.events.slice(i, i + BATCH));
    })();
    // Meanwhile the requests, and what answers them: each once its visitor's events are in, in order, several visitors at a time.
    let requests = 0;
    const flows = visitors.filter((v) => v.flow.length && v.events.length <= BATCH);
    let nextFlow = 0;
    const requestsDone = Promise.all(Array.from({ length: 8 }, async () => {
      while (nextFlow < flows.length) {
        const v = flows[nextFlow++]!;
        await sentOf.get(v);
        const made = await playFlow(base, P, tokens, v, send);
        requests += made;
      }
    }));
    await Promise.all([events, requestsDone]);
    show(done, true);
    const seconds = (Date.now() - started) / 1000;
    const findings = await countFindings(base, P, tokens.auditor!);
    const chatter = visitors.find((v) => v.kind === 'chatter' && v.events.some((e) => e.type === 'consent-withdrawn')) ?? visitors.find((v) => v.kind === 'chatter') ?? visitors[0]!;
    const shownBase = options.url ?? `http://localhost:${config.httpPort}`;
    const curl = (role: string, path: string, file?: string) => `  curl -H 'Authorization: Bearer ${tokens[role]}' '${shownBase}${P}${path}'${file ? ` -o ${file}` : ''}`;
    out([
      `Told the chat-box story: ${visitors.length} visitors, ${done} events and ${requests} requests in ${seconds.toFixed(1)} s (${Math.round(done / Math.max(seconds, 0.001))} events/s).`,
      `Findings raised: ${findings.total} (${Object.entries(findings.byCode).map(([c, n]) => `${c} ${n}`).join(', ')}).`,
      '',
      `Tokens of tenant "${options.tenant}" (dpo, legal, auditor, emitter): ${['dpo', 'legal', 'auditor', 'emitter'].map((r) => `${r}=${tokens[r]}`).join(' ')}`,
      '',
      options.url ? 'Open:' : 'Start the ledger (npm start), then open:',
      `  # the Art. 15 report of ${chatter.id}, as a page to send the person`,
      curl('dpo', `/subjects/${encodeURIComponent(chatter.id)}/report?format=html`, 'report.html'),
      '  # the records of processing (Art. 30), with what was observed but never declared',
      curl('auditor', '/ropa?format=csv', 'ropa.csv'),
      '  # the findings: what broke the declared policy',
      curl('auditor', '/findings?limit=20'),
      '  # what went to the police, and under which request',
      curl('legal', '/disclosures?recipientKind=public-authority'),
      '  # who read whose data',
      curl('auditor', '/access-log'),
    ].join('\n'));
    return 0;
  } finally {
    await stop?.();
  }
}

/**
 * The embedded ledger of the configured data directory, served by a child process (`pdl serve` on free
 * ports, loopback only) so the story's client and the ledger do not share a thread.
 */
function serveEmbedded(config: PdlConfig): Promise<{ url: string; stop: () => Promise<void> }> {
  const bin = fileURLToPath(new URL('../../bin/pdl.js', import.meta.url));
  const child = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=16', bin, 'serve'], {
    env: { ...process.env, PDL_DATA_DIR: config.dataDir, PDL_HTTP_PORT: '0', PDL_GRPC_PORT: '0', PDL_HOST: '127.0.0.1', PDL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (d: Buffer) => {
      buffered += d.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let log: { msg?: string; http?: number; level?: number } = {};
        try { log = JSON.parse(line); } catch { /* not a log line */ }
        if (typeof log.msg === 'string' && log.msg.startsWith('pdl is serving') && log.http) {
          child.stdout.off('data', onData);
          child.stdout.resume();
          resolve({ url: `http://127.0.0.1:${log.http}`, stop });
        } else if ((log.level ?? 0) >= 40) process.stderr.write(`${line}\n`);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the ledger did not start (exit ${code}); is another one using ${config.dataDir}?`)));
  });
}

/** Plays a visitor's requests in order; `$request` is the id the flow's first call answered. */
async function playFlow(base: string, P: string, tokens: Record<string, string>, v: DemoVisitor, send: (events: DemoEvent[]) => Promise<void>): Promise<number> {
  let request = '';
  let calls = 0;
  const subst = <T>(x: T): T => JSON.parse(JSON.stringify(x).replaceAll('$request', request)) as T;
  for (const step of v.flow) {
    if ('events' in step) { await send(subst(step.events)); continue; }
    const c = step.call;
    const r = await call(base, tokens[c.as]!, c.method, `${P}${subst(c.path)}`, subst(c.body));
    if (r.status !== c.expect) throw new Error(`${c.method} ${c.path} for ${v.id} answered ${r.status}, the story expected ${c.expect}: ${r.text.slice(0, 300)}`);
    if (!request && r.json?.id) { request = r.json.id; calls++; }
  }
  return calls;
}

async function countFindings(base: string, P: string, token: string) {
  const byCode: Record<string, number> = {};
  let total = 0;
  for (let cursor: string | null = null; ;) {
    const r = await call(base, token, 'GET', `${P}/findings?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (r.status !== 200) break;
    for (const f of r.json.items) { byCode[f.code] = (byCode[f.code] ?? 0) + 1; total++; }
    cursor = r.json.nextCursor;
    if (!cursor) break;
  }
  return { total, byCode };
}
