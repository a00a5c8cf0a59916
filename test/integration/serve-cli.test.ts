import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT, runPdl, tempDir } from '../support/ledger-process.js';

describe('pdl serve', () => {
  it('ends with the error (exit 1) when its HTTP port is taken, instead of running without HTTP', async () => {
    const taken = net.createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as net.AddressInfo).port)));
    try {
      const proc = spawn(process.execPath, [join(ROOT, 'bin', 'pdl.js'), 'serve'], {
        env: { ...process.env, NODE_OPTIONS: '', PDL_DATA_DIR: tempDir(), PDL_HTTP_PORT: String(port), PDL_GRPC_PORT: '0', PDL_HOST: '127.0.0.1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      proc.stderr!.on('data', (d) => { err += d; });
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => { proc.kill('SIGKILL'); resolve(null); }, 30_000);
        proc.once('exit', (c) => { clearTimeout(timer); resolve(c); });
      });
      expect(code).toBe(1);
      expect(err).toContain(`pdl: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  }, 40_000);

  it('refuses a configuration it cannot use before it writes anything: a bad signing key, unreadable TLS files, a guessable admin token', async () => {
    const weakToken = 'pdl: PDL_ADMIN_TOKEN must be at least 16 visible ASCII characters, without spaces (a random one: openssl rand -hex 32)';
    for (const [env, said] of [
      [{ PDL_ADMIN_TOKEN: 'changeme' }, weakToken],
      [{ PDL_ADMIN_TOKEN: 'a long token with spaces in it' }, weakToken],
      [{ PDL_LOG_LEVEL: 'verbose' }, 'pdl: PDL_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
      [{ PDL_SIGNING_KEY: 'zz' }, 'pdl: PDL_SIGNING_KEY must be a 32-byte Ed25519 seed'],
      [{ PDL_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n' }, 'pdl: PDL_SIGNING_KEY is not a PKCS#8 PEM private key that can be read'],
      [{ PDL_TLS_CERT: '/nonexistent/cert.pem', PDL_TLS_KEY: '/nonexistent/key.pem' }, 'pdl: cannot read the TLS certificate (PDL_TLS_CERT) /nonexistent/cert.pem: ENOENT'],
    ] as const) {
      const dataDir = join(tempDir(), 'data');
      const r = await runPdl(['serve'], { PDL_DATA_DIR: dataDir, PDL_HTTP_PORT: '0', PDL_GRPC_PORT: '0', PDL_HOST: '127.0.0.1', ...env });
      expect([r.status, r.stderr]).toEqual([1, expect.stringContaining(said)]);
      // No data directory, master key or signing key made for a start that could not happen.
      expect(existsSync(dataDir)).toBe(false);
    }
  });
});
