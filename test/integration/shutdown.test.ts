import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import http from 'node:http';
import { join } from 'node:path';
import { jsonRequest } from '../../src/common/http/json-request.js';
import { aTenant, anEvent } from '../support/builders.js';
import { client, ROOT, startLedger } from '../support/ledger-process.js';

describe('a ledger stopped (SIGTERM) while clients send batches', () => {
  it('answers every request it took, records every acknowledged batch, refuses late ones with a 503 problem, and leaves no batch half recorded', async () => {
    let ledger = await startLedger();
    const t = await aTenant(ledger);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const sent: Array<{ ids: string[]; answer: string }> = [];
    const refusals: Array<{ type: string; body: any; retryAfter: boolean }> = [];
    let sending = true;
    const clients = Array.from({ length: 16 }, async () => {
      while (sending) {
        const events = Array.from({ length: 20 }, () => anEvent());
        const batch = { ids: events.map((e) => e.eventId), answer: 'none' };
        sent.push(batch);
        try {
          const r = await jsonRequest(ledger.base, 'POST', `${t.P}/events`, { token: t.tokens.emitter, body: { events }, agent });
          batch.answer = String(r.status);
          if (r.status !== 200) {
            refusals.push({ type: r.type, body: r.json, retryAfter: r.headers['retry-after'] === '2' });
            await new Promise((done) => setTimeout(done, 20));
          }
        } catch (e) {
          // Refused connections once it stopped listening; a reset where a keep-alive connection closed as a request went out.
          batch.answer = (e as NodeJS.ErrnoException).code ?? 'error';
          await new Promise((done) => setTimeout(done, 20));
        }
      }
    });
    await new Promise((done) => setTimeout(done, 1000));
    const exited = new Promise<{ code: number | null; signal: string | null }>((done) => ledger.proc.once('exit', (code, signal) => done({ code, signal })));
    ledger.proc.kill('SIGTERM');
    const { code, signal } = await exited;
    sending = false;
    await Promise.all(clients);
    agent.destroy();
    // It stopped by itself (Nest raises the signal again once closed), not killed by a timeout.
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    expect(ledger.output()).not.toMatch(/"level":(50|60)/);

    const answers = new Set(sent.map((b) => b.answer));
    expect(sent.filter((b) => b.answer === '200').length).toBeGreaterThan(10);
    // Every answer is an acknowledgement or a problem document; never a non-problem error nor another 5xx.
    for (const a of answers) expect(['200', '503', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'none']).toContain(a);
    for (const r of refusals) {
      expect(r.type).toContain('application/problem+json');
      expect(r.body).toMatchObject({ status: 503, type: 'https://pdl.dev/problems/shutting-down' });
      expect(r.retryAfter).toBe(true);
    }

    ledger = await startLedger({ dataDir: ledger.dataDir, adminToken: ledger.adminToken });
    try {
      const auditor = client(ledger.base, t.tokens.auditor);
      const recorded = new Set<string>();
      for (let cursor = ''; ;) {
        const page = (await auditor('GET', `${t.P}/events?type=collected&limit=1000${cursor}`)).json;
        for (const item of page.items) recorded.add(item.event.eventId);
        if (!page.nextCursor) break;
        cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
      }
      for (const b of sent) {
        const present = b.ids.filter((id) => recorded.has(id)).length;
        if (b.answer === '200') expect(present).toBe(b.ids.length);
        else if (b.answer === '503' || b.answer === 'ECONNREFUSED') expect(present).toBe(0);
        // A batch whose answer was lost is all there or not at all: sent again, its ids make it whole.
        else expect([0, b.ids.length]).toContain(present);
      }
    } finally {
      await ledger.stop();
    }
  }, 60_000);
});

describe('a ledger stopped (SIGTERM) while a gRPC AppendStream is open', () => {
  it('answers the batches the stream sent, ends it with UNAVAILABLE (shutting-down), and stops without waiting for the client', async () => {
    let ledger = await startLedger();
    const t = await aTenant(ledger);
    const proto = join(ROOT, 'proto');
    const def = loader.loadSync(join(proto, 'pdl/v1/ledger.proto'), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [proto] });
    const Ledger = (grpc.loadPackageDefinition(def) as any).pdl.v1.Ledger;
    const c = new Ledger(`127.0.0.1:${ledger.grpcPort}`, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${t.tokens.emitter}`);
    const stream = c.AppendStream(metadata);
    const answers: any[] = [];
    const ended = new Promise<grpc.ServiceError | null>((resolve) => { stream.on('error', (e: grpc.ServiceError) => resolve(e)); stream.on('end', () => resolve(null)); });
    stream.on('data', (a: unknown) => answers.push(a));
    const batches = Array.from({ length: 3 }, () => [anEvent(), anEvent()]);
    for (const events of batches) stream.write({ tenant: 'chatbox', events: events.map(({ details, ...rest }) => ({ ...rest, detailsJson: JSON.stringify(details) })) });
    while (answers.length < 3) await new Promise((done) => setTimeout(done, 20));
    // The client keeps its stream open; the ledger is asked to stop.
    const stopping = Date.now();
    const exited = new Promise<void>((done) => ledger.proc.once('exit', () => done()));
    ledger.proc.kill('SIGTERM');
    const error = await ended;
    await exited;
    expect(Date.now() - stopping).toBeLessThan(8_000);
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(JSON.parse(String(error!.metadata.get('problem-bin')[0]))).toMatchObject({ status: 503, type: 'https://pdl.dev/problems/shutting-down' });
    c.close();

    ledger = await startLedger({ dataDir: ledger.dataDir, adminToken: ledger.adminToken });
    try {
      const page = (await client(ledger.base, t.tokens.auditor)('GET', `${t.P}/events?type=collected&limit=1000`)).json;
      const recorded = new Set(page.items.map((x: any) => x.event.eventId));
      for (const events of batches) for (const e of events) expect(recorded.has(e.eventId)).toBe(true);
    } finally {
      await ledger.stop();
    }
  }, 60_000);
});
