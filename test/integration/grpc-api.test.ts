import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { aTenant, anEvent } from '../support/builders.js';
import { auth, ledgerService, toProto } from '../support/grpc.js';
import { client, startLedger, type LedgerProcess } from '../support/ledger-process.js';

let ledger: LedgerProcess;
let t: Awaited<ReturnType<typeof aTenant>>;
let Ledger: grpc.ServiceClientConstructor;
beforeAll(async () => {
  ledger = await startLedger();
  t = await aTenant(ledger);
  Ledger = ledgerService();
});
afterAll(() => ledger.stop());


describe('gRPC Append', () => {
  it('records with the same semantics as HTTP, duplicates included', async () => {
    const c = new Ledger(`127.0.0.1:${ledger.grpcPort}`, grpc.credentials.createInsecure()) as any;
    const e = anEvent();
    const call = (events: unknown[]) => new Promise<any>((res, rej) => c.Append({ tenant: 'chatbox', events }, auth(t.tokens.emitter), (err: unknown, v: unknown) => (err ? rej(err) : res(v))));
    const out = await call([toProto(e)]);
    expect(out.results[0]).toMatchObject({ eventId: e.eventId, status: 'recorded' });
    expect(out.results[0].hash).toMatch(/^[0-9a-f]{64}$/);
    const again = await call([toProto(e)]);
    expect(again.results[0]).toMatchObject({ status: 'duplicate', position: out.results[0].position });
    const http = await t.dpo('GET', `/v1/tenants/chatbox/events?subject=${encodeURIComponent(e.subject.id)}`);
    expect(http.json.items[0].event.details).toEqual({ source: 'observed' });
    c.close();
  });

  it('answers UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT (with the field path) and ALREADY_EXISTS', async () => {
    const c = new Ledger(`127.0.0.1:${ledger.grpcPort}`, grpc.credentials.createInsecure()) as any;
    const call = (events: unknown[], md: grpc.Metadata) => new Promise<any>((res) => c.Append({ tenant: 'chatbox', events }, md, (err: any) => res(err)));
    expect((await call([toProto(anEvent())], new grpc.Metadata())).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await call([toProto(anEvent())], auth(t.tokens.auditor))).code).toBe(grpc.status.PERMISSION_DENIED);
    const bad = await call([toProto(anEvent()), toProto(anEvent({ occurredAt: 'nope' }))], auth(t.tokens.emitter));
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toContain('events[1].occurredAt');
    const e = anEvent();
    await call([toProto(e)], auth(t.tokens.emitter));
    expect((await call([toProto({ ...e, purpose: 'marketing' })], auth(t.tokens.emitter))).code).toBe(grpc.status.ALREADY_EXISTS);
    c.close();
  });

  it('takes details as a google.protobuf.Struct too', async () => {
    const c = new Ledger(`127.0.0.1:${ledger.grpcPort}`, grpc.credentials.createInsecure()) as any;
    const e: Record<string, unknown> = anEvent({ type: 'disclosed', categories: ['user.contact.email'], purpose: 'marketing' });
    delete e.details;
    const out = await new Promise<any>((res, rej) => c.Append({ tenant: 'chatbox', events: [{ ...e, details: { fields: { recipient: { stringValue: 'email-platform' } } } }] }, auth(t.tokens.emitter), (err: unknown, v: unknown) => (err ? rej(err) : res(v))));
    expect(out.results[0].status).toBe('recorded');
    c.close();
  });
});

describe('gRPC AppendStream', () => {
  it('answers each batch in order, and a refused batch without ending the stream', async () => {
    const c = new Ledger(`127.0.0.1:${ledger.grpcPort}`, grpc.credentials.createInsecure()) as any;
    const metricsBefore = (await client(ledger.base)('GET', '/metrics')).text;
    const stream = c.AppendStream(auth(t.tokens.emitter));
    const answers: any[] = [];
    const done = new Promise<void>((resolve, reject) => { stream.on('data', (a: unknown) => answers.push(a)); stream.on('end', resolve); stream.on('error', reject); });
    const batches = Array.from({ length: 10 }, () => [toProto(anEvent()), toProto(anEvent())]);
    batches.splice(4, 0, [toProto(anEvent({ eventId: 'not-a-uuid' }))]);
    for (const events of batches) stream.write({ tenant: 'chatbox', events });
    stream.end();
    await done;
    expect(answers).toHaveLength(11);
    expect(answers[4].error.status).toBe(400);
    const ok = answers.filter((a) => !a.error?.status);
    expect(ok.map((a) => a.results.map((r: any) => r.eventId))).toEqual(batches.filter((_, i) => i !== 4).map((b) => b.map((e) => e.eventId)));
    // Each message is counted in the metrics with the status it was answered with.
    const metricsAfter = (await client(ledger.base)('GET', '/metrics')).text;
    const count = (text: string, code: string) => Number(new RegExp(`^pdl_grpc_requests_total\\{method="AppendStream",code="${code}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    expect([count(metricsAfter, 'OK') - count(metricsBefore, 'OK'), count(metricsAfter, 'INVALID_ARGUMENT') - count(metricsBefore, 'INVALID_ARGUMENT')]).toEqual([10, 1]);
    c.close();
  });
});

describe('gRPC Decide', () => {
  it('answers like POST decisions, and refuses a malformed request with INVALID_ARGUMENT', async () => {
    const c = new Ledger(`127.0.0.1:${ledger.grpcPort}`, grpc.credentials.createInsecure()) as any;
    const decide = (req: object, token = t.tokens.emitter) => new Promise<any>((res, rej) => c.Decide({ tenant: 'chatbox', ...req }, auth(token), (err: unknown, v: unknown) => (err ? rej(err) : res(v))));
    const noConsent = await decide({ subject: { id: 'visitor:nobody' }, type: 'disclosed', purpose: 'marketing', categories: ['user.contact.email'], system: 'core', recipient: 'email-platform' });
    expect(noConsent.allowed).toBe(false);
    expect(noConsent.findings.map((f: any) => f.code)).toContain('consent-missing');
    const lawful = await decide({ subject: { id: 'visitor:nobody' }, type: 'used', purpose: 'anti-abuse', categories: ['user.device.ip_address'], system: 'core' });
    expect(lawful).toEqual({ allowed: true, findings: [] });
    await expect(decide({ subject: { id: 'x' }, type: 'teleported', purpose: 'p', categories: ['user.name'], system: 'core' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(decide({ subject: { id: 'x' }, type: 'used', purpose: 'anti-abuse', categories: ['user.name'], system: 'core' }, t.tokens.auditor)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    c.close();
  });
});

describe('a message that is not valid protobuf of its request type', () => {
  // Bytes sent as they are (a client with another .proto, a broken encoder): a field cut short (`events`,
  // 3 bytes announced, 1 sent), and an invalid wire type (7) from the second byte on.
  const truncated = Buffer.from([0x12, 0x03, 0x0a]);
  const badWireType = Buffer.from('garbage');
  const raw = () => new grpc.Client(`127.0.0.1:${ledger.grpcPort}`, grpc.credentials.createInsecure());
  const unary = (c: grpc.Client, method: string, bytes: Buffer) =>
    new Promise<grpc.ServiceError>((res, rej) => c.makeUnaryRequest(`/pdl.v1.Ledger/${method}`, (b: Buffer) => b, (b: Buffer) => b, bytes, auth(t.tokens.emitter), (err, v) => (err ? res(err) : rej(new Error(`answered ${String(v)}`)))));

  it('is refused with INVALID_ARGUMENT and a problem, not INTERNAL, by Append and Decide', async () => {
    const c = raw();
    const count = async (method: string) => Number(new RegExp(`^pdl_grpc_requests_total\\{method="${method}",code="INVALID_ARGUMENT"\\} (\\d+)`, 'm').exec((await client(ledger.base)('GET', '/metrics')).text)?.[1] ?? 0);
    const before = [await count('Append'), await count('Decide')];
    for (const method of ['Append', 'Decide']) {
      for (const bytes of [truncated, badWireType]) {
        const err = await unary(c, method, bytes);
        expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(err.details).toContain('Malformed request body');
        const problem = JSON.parse(String(err.metadata.get('problem-bin')[0]));
        expect(problem).toMatchObject({ status: 400, type: 'https://pdl.dev/problems/malformed-body' });
        expect(problem.detail).toContain(method === 'Append' ? 'AppendRequest' : 'DecisionRequest');
      }
    }
    expect([await count('Append') - before[0]!, await count('Decide') - before[1]!]).toEqual([2, 2]);
    c.close();
  });

  it('is never answered INTERNAL or UNKNOWN, whatever the bytes (fast-check)', async () => {
    const c = raw();
    const anyAnswer = (method: string, bytes: Buffer) =>
      new Promise<number>((res) => c.makeUnaryRequest(`/pdl.v1.Ledger/${method}`, (b: Buffer) => b, (b: Buffer) => b, bytes, auth(t.tokens.emitter), (err) => res(err ? err.code : grpc.status.OK)));
    await fc.assert(fc.asyncProperty(fc.constantFrom('Append', 'Decide'), fc.uint8Array({ maxLength: 96 }), async (method, bytes) => {
      const code = await anyAnswer(method, Buffer.from(bytes));
      expect([grpc.status.INTERNAL, grpc.status.UNKNOWN]).not.toContain(code);
    }), { numRuns: 150 });
    c.close();
  });

  it('is answered as a refused batch by AppendStream, which goes on with the next ones', async () => {
    const serialize = (Ledger.service as any).AppendStream.requestSerialize as (m: object) => Buffer;
    const deserialize = (Ledger.service as any).AppendStream.responseDeserialize as (b: Buffer) => any;
    const c = raw();
    const stream = c.makeBidiStreamRequest('/pdl.v1.Ledger/AppendStream', (b: Buffer) => b, deserialize, auth(t.tokens.emitter));
    const answers: any[] = [];
    const done = new Promise<void>((resolve, reject) => { stream.on('data', (a: unknown) => answers.push(a)); stream.on('end', resolve); stream.on('error', reject); });
    const before = anEvent(), after = anEvent();
    stream.write(serialize({ tenant: 'chatbox', events: [toProto(before)] }));
    stream.write(truncated);
    stream.write(serialize({ tenant: 'chatbox', events: [toProto(after)] }));
    stream.end();
    await done;
    expect(answers).toHaveLength(3);
    expect(answers[0].results[0]).toMatchObject({ eventId: before.eventId, status: 'recorded' });
    expect(answers[1].error).toMatchObject({ status: 400, title: 'Malformed request body' });
    expect(answers[2].results[0]).toMatchObject({ eventId: after.eventId, status: 'recorded' });
    c.close();
  });
});
