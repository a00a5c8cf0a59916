import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PdlConfig } from '../config/config.js';
import { lockDataDir } from '../common/sqlite/data-dir-lock.js';
import { binNodeFlags } from './node-flags.js';
import { UsageError } from './verify.js';

// What the commands that talk to a ledger over HTTP (`demo`, `import`, `export`) share: a running ledger, or the embedded one served for them.

/** A progress bar on a terminal, a line every few seconds otherwise. */
export function progress(total: number, write: (s: string) => void, tty: boolean, unit = 'events') {
  const started = Date.now();
  let shown = 0;
  return (done: number, final = false) => {
    const now = Date.now();
    if (!final && now - shown < (tty ? 200 : 5000)) return;
    shown = now;
    const rate = Math.round(done / Math.max((now - started) / 1000, 0.001));
    const width = 30, filled = Math.round((width * done) / Math.max(total, 1));
    const line = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.round((100 * done) / Math.max(total, 1))}% ${done}/${total} ${unit}, ${rate}/s`;
    write(tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  };
}

/**
 * The embedded ledger of the configured data directory, served by a child process (`pdl serve` on free
 * ports, loopback only) so the story's client and the ledger do not share a thread.
 */
export function serveEmbedded(config: PdlConfig): Promise<{ url: string; stop: () => Promise<void> }> {
  if (existsSync(join(config.dataDir, 'owner.lock'))) {
    // Served already: say so, and how to reach it, before a child fails to start saying less.
    try {
      lockDataDir(config.dataDir).release();
    } catch (e) {
      return Promise.reject(new UsageError(`${e instanceof Error ? e.message : String(e)}: stop it, or send to it with --url http://<its host>:<its port>`));
    }
  }
  const bin = fileURLToPath(new URL('../../bin/pdl.js', import.meta.url));
  const child = spawn(process.execPath, [...binNodeFlags(bin), bin, 'serve'], {
    // Loopback only, for this command: in clear, whatever certificate the environment names for `pdl serve`.
    env: { ...process.env, PDL_DATA_DIR: config.dataDir, PDL_HTTP_PORT: '0', PDL_GRPC_PORT: '0', PDL_HOST: '127.0.0.1', PDL_LOG_LEVEL: 'info', PDL_TLS_CERT: '', PDL_TLS_KEY: '' },
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

/** A refused request in one line: its status, and its problem's title and detail (or the start of its body; nothing more of it is repeated). */
export const refusal = (r: { status: number; json: { title?: string; detail?: string } | null; text: string }): string =>
  r.json?.title ? `${r.status} ${r.json.title}${r.json.detail ? `: ${r.json.detail}` : ''}` : `${r.status} ${r.text.slice(0, 200)}`;

/** The bootstrap admin's token of the embedded ledger: `PDL_ADMIN_TOKEN`, or the one its first start wrote into the data directory. */
export function embeddedAdminToken(config: PdlConfig): string | undefined {
  const file = join(config.dataDir, 'admin-token');
  return config.adminToken ?? (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
}
