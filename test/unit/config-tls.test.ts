import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, tlsMaterial } from '../../src/config/config.js';

describe('the TLS certificate and key of the configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdl-tls-conf-'));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];

  it('are read once per configuration: HTTPS and gRPC get the same pair even if the files change meanwhile', () => {
    writeFileSync(cert, 'first certificate');
    writeFileSync(key, 'first key');
    const config = loadConfig({ PDL_TLS_CERT: cert, PDL_TLS_KEY: key });
    const first = tlsMaterial(config)!;
    writeFileSync(cert, 'second certificate');
    expect(tlsMaterial(config)).toBe(first);
    expect(first.cert.toString()).toBe('first certificate');
    // A configuration loaded again (a restart) reads them again.
    expect(tlsMaterial(loadConfig({ PDL_TLS_CERT: cert, PDL_TLS_KEY: key }))!.cert.toString()).toBe('second certificate');
  });

  it('are none without PDL_TLS_CERT and PDL_TLS_KEY, and a missing file is named', () => {
    expect(tlsMaterial(loadConfig({}))).toBeUndefined();
    expect(() => tlsMaterial(loadConfig({ PDL_TLS_CERT: join(dir, 'none.pem'), PDL_TLS_KEY: key }))).toThrow(/cannot read the TLS certificate \(PDL_TLS_CERT\) .*none\.pem: ENOENT/);
  });
});
