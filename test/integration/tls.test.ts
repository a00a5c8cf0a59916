import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { aTenant, anEvent } from '../support/builders.js';
import { client, ROOT, runPdl as pdl, startLedger, tempDir, type LedgerProcess } from '../support/ledger-process.js';

/** A certificate authority of its own, and a certificate it signed for 127.0.0.1 (openssl, as an operator makes them). */
function certificates() {
  const dir = tempDir('pdl-tls-');
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pdl test CA');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { dir, ca: readFileSync(join(dir, 'ca.pem')), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

describe('a ledger served over TLS (PDL_TLS_CERT, PDL_TLS_KEY)', () => {
  const certs = certificates();
  let ledger: LedgerProcess;
  let t: Awaited<ReturnType<typeof aTenant>>;
  beforeAll(async () => {
    ledger = await startLedger({ env: { PDL_TLS_CERT: certs.cert, PDL_TLS_KEY: certs.key }, tls: { ca: certs.ca } });
    t = await aTenant(ledger);
  });
  afterAll(() => ledger.stop());

  it('answers HTTPS, and refuses a request in clear', async () => {
    expect(ledger.base).toMatch(/^https:/);
    const r = await t.emitter('POST', `${t.P}/events`, { events: [anEvent()] });
    expect([r.status, r.json.results[0].status]).toEqual([200, 'recorded']);
    const inClear = new Promise<number>((resolve, reject) => {
      http.get(ledger.base.replace('https:', 'http:') + '/health', (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
    });
    // Node's TLS server takes no plain HTTP: the connection is closed, or answered 400 by the TLS layer, never served.
    await expect(inClear.then((status) => (status === 200 ? 'served' : 'refused'), () => 'refused')).resolves.toBe('refused');
  });

  it('serves gRPC over TLS to a client that trusts its authority, and to no client in clear', async () => {
    const proto = join(ROOT, 'proto');
    const def = loader.loadSync(join(proto, 'pdl/v1/ledger.proto'), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [proto] });
    const Ledger = (grpc.loadPackageDefinition(def) as any).pdl.v1.Ledger;
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${t.tokens.emitter}`);
    const append = (credentials: grpc.ChannelCredentials) => new Promise<any>((resolve, reject) => {
      const c = new Ledger(`127.0.0.1:${ledger.grpcPort}`, credentials, { 'grpc.ssl_target_name_override': 'localhost' });
      const { details, ...rest } = anEvent();
      c.Append({ tenant: 'chatbox', events: [{ ...rest, detailsJson: JSON.stringify(details) }] }, metadata, { deadline: Date.now() + 5000 }, (err: unknown, v: unknown) => { c.close(); if (err) reject(err); else resolve(v); });
    });
    expect((await append(grpc.credentials.createSsl(certs.ca))).results[0].status).toBe('recorded');
    await expect(append(grpc.credentials.createInsecure())).rejects.toMatchObject({ code: expect.any(Number) });
  });

  it("lets the command line's clients reach it, trusting the authority through NODE_EXTRA_CA_CERTS", async () => {
    const out = join(certs.dir, 'log.ndjson');
    const r = await pdl(['export', '--tenant', 'chatbox', '--url', ledger.base, '--out', out], { PDL_TOKEN: t.tokens.auditor, NODE_EXTRA_CA_CERTS: join(certs.dir, 'ca.pem') });
    expect([r.status, r.stderr.slice(-300)]).toEqual([0, expect.stringContaining('exported')]);
    expect(readFileSync(out, 'utf8').trim().split('\n').length).toBeGreaterThan(5);
    expect((await client(ledger.base)('GET', '/health')).status).toBe(200);
  });

  it('refuses to start with a certificate and no key, saying why', async () => {
    const r = await pdl(['serve'], { PDL_TLS_CERT: certs.cert, PDL_DATA_DIR: tempDir() });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('PDL_TLS_CERT and PDL_TLS_KEY go together');
  });
});
