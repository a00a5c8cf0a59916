import { spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT, tempDir } from '../support/ledger-process.js';

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
});
