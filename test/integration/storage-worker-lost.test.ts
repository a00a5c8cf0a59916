import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkerCalls } from '../../src/storage/worker-calls.js';
import { ROOT, tempDir } from '../support/ledger-process.js';

/** A worker that answers as the storage workers do, and ends at once when told to `die` (as one out of memory would). */
const SCRIPT = new URL(`data:text/javascript,${encodeURIComponent(`
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (r) => {
  if (r.op === 'die') process.exit(3);
  parentPort.postMessage({ id: r.id, ok: true, value: r.op });
});`)}`);

class Calls extends WorkerCalls<{ op: string }> {
  close(): Promise<void> {
    return this.stop({ op: 'close' });
  }
}

describe('a storage worker that ends unasked', () => {
  it('is reported once, with why; its pending and later requests fail', async () => {
    const lost: string[] = [];
    const calls = new Calls(SCRIPT, null, {}, (e) => lost.push(e.message));
    expect(await calls.call({ op: 'ping' })).toBe('ping');
    await expect(calls.call({ op: 'die' })).rejects.toThrow('the storage worker stopped (exit code 3)');
    await expect(calls.call({ op: 'ping' })).rejects.toThrow('the storage worker stopped (exit code 3)');
    expect(calls.healthy).toBe(false);
    expect(lost).toEqual(['the storage worker stopped (exit code 3)']);
    await calls.close();
    expect(lost).toHaveLength(1);
  });

  it('is not reported when it was asked to stop', async () => {
    const lost: string[] = [];
    const calls = new Calls(SCRIPT, null, {}, (e) => lost.push(e.message));
    expect(await calls.call({ op: 'ping' })).toBe('ping');
    await calls.close();
    await expect(calls.call({ op: 'ping' })).rejects.toThrow('the storage is closed');
    expect(lost).toEqual([]);
  });

  it('the embedded store\'s own worker, ended: reported, its requests refused, still closes', async () => {
    // The compiled client (`npm test` builds first): the worker's script is compiled JavaScript.
    const { WriteWorkerClient } = await import(pathToFileURL(join(ROOT, 'dist', 'storage', 'write-worker-client.js')).href) as typeof import('../../src/storage/write-worker-client.js');
    const lost: string[] = [];
    const client = new WriteWorkerClient(tempDir(), {}, (e) => lost.push(e.message));
    await client.flushLog();
    // Ended from outside, as an out-of-memory death ends it: no request makes the storage worker end.
    await (client as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    expect(lost).toEqual(['the storage worker stopped (exit code 1)']);
    expect(client.healthy).toBe(false);
    await expect(client.logWrites([{ stream: 'ledger-acme', expectedRevision: 'no_stream', events: [] }])).rejects.toThrow('the storage worker stopped (exit code 1)');
    await client.close();
    expect(lost).toHaveLength(1);
  });

  it('stops the server with exit code 70, saying why', () => {
    const module = pathToFileURL(join(ROOT, 'dist', 'storage', 'storage.module.js')).href;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { stopWhenStorageLost } from ${JSON.stringify(module)};
      import { createLogger } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'operability', 'logger.js')).href)};
      stopWhenStorageLost(createLogger('info'))(new Error('the storage worker stopped (exit code 1)'));
      setInterval(() => {}, 1000);`], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(70);
    const line = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(line).toMatchObject({ level: 50, reason: 'the storage worker stopped (exit code 1)', exitCode: 70, msg: 'the storage thread ended: the ledger stops, to be started again' });
  });
});
