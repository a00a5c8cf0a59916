import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config.js';

/**
 * docker-compose.yml cannot run on this machine (no Docker engine): it is kept right by reading, and
 * by this test of what it says. Its YAML parses; it describes a 3-node EventStoreDB cluster whose nodes
 * know each other, PostgreSQL, and two ledgers wired to both with configurations the ledger accepts.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, any>; networks: Record<string, any>; volumes: Record<string, any> };
const services = compose.services;
const nodes = Object.entries(services).filter(([, s]) => /kurrent|eventstore/.test(String(s.image)) && !String(s.image).includes('gencert'));
const ledgers = Object.entries(services).filter(([, s]) => s.environment?.PDL_STORE);
/** `${NAME:?message}` and `${NAME:-default}` as compose fills them in, with sample values for the required ones. */
const filled = (value: string) => String(value).replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_m, name: string, rest: string | undefined) => {
  if (name === 'PDL_MASTER_KEY') return Buffer.alloc(32, 7).toString('base64');
  if (name === 'PDL_SIGNING_KEY') return 'ab'.repeat(32);
  return rest !== undefined && !/^set /.test(rest) ? rest : `sample-${name.toLowerCase()}`;
});

describe('docker-compose.yml', () => {
  it('runs a 3-node EventStoreDB cluster whose nodes seed each other, with TLS certificates of their own', () => {
    expect(nodes).toHaveLength(3);
    const ips = nodes.map(([, s]) => Object.values(s.networks as Record<string, { ipv4_address: string }>)[0]!.ipv4_address);
    for (const [name, s] of nodes) {
      const env = s.environment as Record<string, string>;
      expect([name, env.KURRENTDB_CLUSTER_SIZE]).toEqual([name, '3']);
      const own = env.KURRENTDB_REPLICATION_IP!;
      expect(ips).toContain(own);
      expect(env.KURRENTDB_GOSSIP_SEED!.split(',').map((e) => e.split(':')[0]).sort()).toEqual(ips.filter((ip) => ip !== own).sort());
      expect(env.KURRENTDB_CERTIFICATE_FILE).toMatch(/node\d\/node\.crt$/);
      expect(env).not.toHaveProperty('KURRENTDB_INSECURE');
      expect(s.healthcheck.test.join(' ')).toContain('/health/live');
      expect(s.depends_on.certs.condition).toBe('service_completed_successfully');
    }
    expect(new Set(nodes.map(([, s]) => s.environment.KURRENTDB_CERTIFICATE_FILE)).size).toBe(3);
    expect(new Set(nodes.map(([, s]) => s.volumes.find((v: string) => v.endsWith('/var/lib/kurrentdb')))).size).toBe(3);
  });

  it('runs PostgreSQL with a health check and a volume', () => {
    expect(services.postgres.image).toMatch(/^postgres:\d+/);
    expect(services.postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(services.postgres.volumes[0]).toMatch(/postgres-data:/);
  });

  it('runs two ledgers on the cluster and PostgreSQL, on ports of their own, with configurations the ledger accepts', () => {
    expect(ledgers).toHaveLength(2);
    const hostPorts = ledgers.flatMap(([, s]) => (s.ports as string[]).map((p) => p.split(':')[0]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    for (const [name, s] of ledgers) {
      for (const dep of ['postgres', ...nodes.map(([n]) => n)]) expect([name, dep, s.depends_on[dep]?.condition]).toEqual([name, dep, 'service_healthy']);
      const env = Object.fromEntries(Object.entries(s.environment as Record<string, string>).map(([k, v]) => [k, filled(v)]));
      const config = loadConfig(env);
      expect(config.store).toBe('eventstoredb');
      expect(new URL(config.postgresUrl!).hostname).toBe('postgres');
      expect(config.esdbUrl!.replace(/^esdb:\/\//, '').split('?')[0]!.split(',').map((h) => h.split(':')[0])).toEqual(nodes.map(([n]) => n));
      expect(config.masterKey && config.signingKey && config.adminToken).toBeTruthy();
      expect(s.healthcheck.test.join(' ')).toContain('/health');
    }
    // Both ledgers sign and seal with the same keys (the same environment).
    expect(ledgers[0]![1].environment.PDL_MASTER_KEY).toBe(ledgers[1]![1].environment.PDL_MASTER_KEY);
    expect(ledgers[0]![1].environment.PDL_SIGNING_KEY).toBe(ledgers[1]![1].environment.PDL_SIGNING_KEY);
  });

  it('declares every volume and network it uses', () => {
    const used = Object.values(services).flatMap((s: any) => (s.volumes ?? []).map((v: string) => v.split(':')[0]).filter((v: string) => !v.startsWith('.')));
    for (const v of used) expect(compose.volumes).toHaveProperty(v);
    const networks = Object.values(services).flatMap((s: any) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {})));
    for (const n of networks) expect(compose.networks).toHaveProperty(n);
  });
});
