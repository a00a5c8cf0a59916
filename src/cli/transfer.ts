import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Transform, type Writable } from 'node:stream';
import type { PdlConfig } from '../config/config.js';
import { jsonRequest, keepAliveAgent, transportOf } from '../common/http/json-request.js';
import { requireEmbeddedLedger } from '../storage/open-storage.js';
import { embeddedAdminToken, progress, refusal, serveEmbedded } from './ledger-connection.js';
import { UsageError } from './verify.js';

/** Where a command finds the ledger: a running one (`url`, with `token`), or the embedded one of the data directory. */
export interface Target {
  readonly tenant: string;
  readonly url?: string;
  readonly token?: string;
}

/** Runs `work` against the target's ledger: the running one, or the embedded one served for as long as it takes. */
async function withLedger<T>(target: Target, config: PdlConfig, work: (base: string, embeddedAdmin: string | undefined) => Promise<T>): Promise<T> {
  if (target.url) return work(target.url.replace(/\/$/, ''), undefined);
  // Served only if it exists: a ledger is not made in a mistyped data directory to be refused a tenant by.
  requireEmbeddedLedger(config.dataDir);
  const running = await serveEmbedded(config);
  try {
    return await work(running.url, embeddedAdminToken(config));
  } finally {
    await running.stop();
  }
}

/**
 * `pdl export --tenant <id> [--out <file>] [--from N] [--to N]`: the tenant's log as NDJSON, exactly the
 * bytes that were hashed (what `GET …/log/export` answers and `pdl verify` checks), into a file or to
 * standard output, with a progress bar on a terminal. Reads only: the embedded ledger is read with its
 * bootstrap admin's token, which records nothing.
 */
export async function exportLog(target: Target & { readonly out?: string; readonly from?: number; readonly to?: number },
  config: PdlConfig, stdout: Writable, status: (s: string) => void, tty: boolean): Promise<number> {
  // A file of its own, made first (never one that was there: `wx`), and removed if the export fails.
  const file = target.out && target.out !== '-' ? createWriteStream(target.out, { flags: 'wx' }) : null;
  if (file) {
    try {
      await once(file, 'open');
    } catch (e) {
      throw new UsageError(`cannot write ${target.out}: ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists already' : (e as Error).message}`);
    }
  }
  try {
    return await withLedger(target, config, async (base, embeddedAdmin) => {
      const token = target.token ?? embeddedAdmin;
      if (!token) throw new UsageError('set PDL_TOKEN to a token of the tenant (any role may export its log)');
      const query = new URLSearchParams();
      if (target.from !== undefined) query.set('from', String(target.from));
      if (target.to !== undefined) query.set('to', String(target.to));
      const path = `/v1/tenants/${target.tenant}/log/export${query.size ? `?${query}` : ''}`;
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const u = new URL(base);
        transportOf(base).get({ host: u.hostname, port: u.port, path, headers: { authorization: `Bearer ${token}` } }, resolve).on('error', reject);
      });
      if (res.statusCode !== 200) {
        const text = await new Promise<string>((resolve) => { let t = ''; res.setEncoding('utf8').on('data', (d: string) => { t += d; }).on('end', () => resolve(t)); });
        let json = null;
        try { json = JSON.parse(text); } catch { /* not a problem document */ }
        throw new UsageError(`the ledger refused the export: ${refusal({ status: res.statusCode ?? 0, json, text })}`);
      }
      // The answer names its range: `<tenant>-log-<from>-<to>.ndjson`.
      const range = /-log-(\d+)-(\d+)\.ndjson/.exec(String(res.headers['content-disposition']));
      const [from, to] = range ? [Number(range[1]), Number(range[2])] : [target.from ?? 0, 0];
      const show = progress(Math.max(to - from, 0), status, tty, 'entries');
      let lines = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
          show(lines);
          done(null, chunk);
        },
      });
      await pipeline(res, counted, file ?? stdout, { end: file !== null });
      show(lines, true);
      if (file) status(`exported ${lines} entries of tenant "${target.tenant}"${lines ? ` (positions ${from} to ${from + lines - 1})` : ''} into ${target.out}\n`);
      // Fewer lines than announced: the ledger stopped at an entry that no longer matches its leaf hash.
      if (range && lines < to - from) {
        status(`the export stopped at position ${from + lines} of ${to}: that entry differs from its leaf hash (the store was altered); pdl verify --data-dir tells more\n`);
        return 1;
      }
      return 0;
    });
  } catch (e) {
    if (file) {
      file.destroy();
      rmSync(target.out!, { force: true });
    }
    throw e;
  }
}

/** The lines of a text file, read as a stream (CRLF or LF). */
const linesOf = (file: string) => createInterface({ input: createReadStream(file), crlfDelay: Infinity });

/** The value a line of JSON holds, or undefined if it is not JSON. */
function jsonOrUndefined(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/** Events sent per request (the API takes up to 1,000), one request at a time so that they are judged in the file's order. */
const IMPORT_BATCH = 1000;

/**
 * `pdl import <file.ndjson> --tenant <id>`: records the processing events of a file, one JSON event per
 * line in the form `POST …/events` takes (the emitter's form), through the ledger's one append path, in
 * order, in batches of 1,000, with a progress bar on a terminal. Idempotent by `eventId`: a file
 * imported again, or after an interruption, records only what is not in the log yet. A line that is not
 * an event stops the import there, naming the line; the batches before it are recorded. Into the
 * embedded ledger, the bootstrap admin issues a dpo token for the import and revokes it at its end
 * (both recorded in the log, as every token is).
 */
export async function importEvents(target: Target & { readonly file: string }, config: PdlConfig,
  out: (s: string) => void, status: (s: string) => void, tty: boolean): Promise<number> {
  let total = 0;
  // Read once to count them (the progress bar's total), then again to send them: the file is never held whole.
  for await (const line of linesOf(target.file)) if (line.trim()) total++;
  return withLedger(target, config, async (base, embeddedAdmin) => {
    const agent = keepAliveAgent(base, 1);
    const call = (token: string, method: string, path: string, body?: unknown) => jsonRequest(base, method, path, { token, body, agent });
    const P = `/v1/tenants/${target.tenant}`;
    let token = target.token;
    let issued: string | null = null;
    if (!token) {
      if (!embeddedAdmin) throw new UsageError('set PDL_TOKEN to an emitter or dpo token of the tenant');
      const r = await call(embeddedAdmin, 'POST', `${P}/tokens`, { role: 'dpo', label: 'pdl import' });
      if (r.status !== 201) throw new UsageError(`could not issue a token for the import: ${refusal(r)}`);
      token = r.json.token as string;
      issued = r.json.id as string;
    }
    const show = progress(total, status, tty);
    const counts = { recorded: 0, duplicate: 0, findings: 0 };
    /** How many events raised each finding code (an event raising one code twice counts once). */
    const byCode = new Map<string, number>();
    let done = 0;
    let batch: unknown[] = [];
    /** The file's line of each event of the batch (blank lines are skipped). */
    let lineOf: number[] = [];
    const send = async (): Promise<string | null> => {
      if (!batch.length) return null;
      const r = await call(token!, 'POST', `${P}/events`, { events: batch });
      if (r.status !== 200) {
        const errors = (r.json?.errors ?? []) as Array<{ path: string; message: string }>;
        // `events[i]…` names the line the event came from.
        const named = errors.slice(0, 5).map((e) => {
          const m = /^events\[(\d+)\](.*)$/.exec(e.path);
          return m ? `line ${lineOf[Number(m[1])]}${m[2] ? ` (${m[2].replace(/^\./, '')})` : ''}: ${e.message}` : `${e.path}: ${e.message}`;
        });
        return `${refusal(r)}${named.length ? `\n  ${named.join('\n  ')}` : ''}\nnothing of the batch of lines ${lineOf[0]}-${lineOf[lineOf.length - 1]} was recorded`;
      }
      for (const x of r.json.results as Array<{ status: 'recorded' | 'duplicate'; findings: Array<{ code: string }> }>) {
        counts[x.status]++;
        if (x.findings.length) counts.findings++;
        for (const code of new Set(x.findings.map((f) => f.code))) byCode.set(code, (byCode.get(code) ?? 0) + 1);
      }
      done += batch.length;
      show(done);
      batch = [];
      lineOf = [];
      return null;
    };
    let failure: string | null = null;
    try {
      let n = 0;
      for await (const read of linesOf(target.file)) {
        n++;
        // A byte order mark, as some editors and exports on Windows write, begins the text and is no part of the JSON.
        const line = n === 1 ? read.replace(/^\uFEFF/, '') : read;
        if (!line.trim()) continue;
        const event = jsonOrUndefined(line);
        if (event === undefined || Array.isArray(event)) {
          // Each event of a batch must come from the line its index names: send what came before, then stop.
          const array = Array.isArray(event) || (done + batch.length === 0 && line.trimStart().startsWith('['));
          failure = (await send()) ?? `line ${n} ${event === undefined ? 'is not JSON' : 'is a list'}${array ? ': the file must hold one event per line (NDJSON), not a JSON array of them' : ''}`;
          break;
        }
        batch.push(event);
        lineOf.push(n);
        if (batch.length === IMPORT_BATCH && (failure = await send())) break;
      }
      failure ??= await send();
    } finally {
      if (issued && embeddedAdmin) await call(embeddedAdmin, 'DELETE', `${P}/tokens/${issued}`);
      agent.destroy();
    }
    show(done, true);
    const codes = [...byCode].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([code, n]) => `${code} ${n}`);
    const summary = `${counts.recorded} recorded, ${counts.duplicate} already in the log (duplicates), ${counts.findings} with findings${codes.length ? ` (${codes.join(', ')})` : ''}`;
    if (failure) {
      status(`pdl import: stopped: ${failure}\n`);
      out(`imported ${done} of ${total} events of ${target.file} into tenant "${target.tenant}" before stopping: ${summary}; mend the file and import it again (what is recorded is recognised by its eventId)`);
      return 1;
    }
    out(`imported ${done} events of ${target.file} into tenant "${target.tenant}": ${summary}`);
    return 0;
  });
}
