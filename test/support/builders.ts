import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { client, startLedger, type LedgerProcess } from './ledger-process.js';

export const scenario = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'chatbox.json'), 'utf8'));

/** A well-formed `collected` event; override any field. */
export const anEvent = (overrides: Record<string, unknown> = {}) => ({
  eventId: randomUUID(), type: 'collected',
  subject: { id: `visitor:${randomUUID().slice(0, 8)}`, identifiers: { ip: '203.0.113.7' } },
  categories: ['user.device.ip_address'], purpose: 'visitor-session', system: 'core',
  occurredAt: '2026-03-01T10:00:00Z', actor: { type: 'service', id: 'chatbox-api' }, details: { source: 'observed' },
  ...overrides,
});

/** Declares `tenant` through `writer` (an administrator's `tenant-declared`, residency EEA) and expects it recorded. */
export async function declareTenant(writer: LedgerWriter, tenant = 'acme', { name = 'Acme', eventId = randomUUID() }: { name?: string; eventId?: string } = {}): Promise<void> {
  const r = await writer.append(tenant, async () => ({ _tag: 'Right', right: { drafts: [{ type: 'tenant-declared', eventId, actor: { type: 'admin', id: 'test' }, settings: { name, residency: ['EEA'] } }], answer: () => null } }) as never);
  expect(r._tag).toBe('Right');
}

/** The scenario's tenant with its declarations and one token per role. */
export async function aTenant(ledger: LedgerProcess, id = scenario.tenant.id) {
  const admin = client(ledger.base, ledger.adminToken);
  const P = `/v1/tenants/${id}`;
  await admin('PUT', P, { name: scenario.tenant.name, residency: scenario.tenant.residency });
  const tokens: Record<string, string> = {};
  for (const role of ['admin', 'dpo', 'legal', 'auditor', 'emitter']) tokens[role] = (await admin('POST', `${P}/tokens`, { role })).json.token;
  const dpo = client(ledger.base, tokens.dpo);
  for (const [kind, list] of [['systems', scenario.systems], ['recipients', scenario.recipients], ['purposes', scenario.purposes]] as const) {
    for (const { id: did, ...body } of list) await dpo('PUT', `${P}/${kind}/${did}`, body);
  }
  return { P, tokens, admin, dpo, auditor: client(ledger.base, tokens.auditor), emitter: client(ledger.base, tokens.emitter), legal: client(ledger.base, tokens.legal) };
}

/**
 * A ledger started before the tests of the suite (or `describe`) that calls this, with the reference
 * tenant (`aTenant`), and stopped after them: read `ledger` and `t` in the tests.
 */
export function aRunningTenant(): { ledger: LedgerProcess; t: Awaited<ReturnType<typeof aTenant>> } {
  const fixture = {} as { ledger: LedgerProcess; t: Awaited<ReturnType<typeof aTenant>> };
  beforeAll(async () => {
    fixture.ledger = await startLedger();
    fixture.t = await aTenant(fixture.ledger);
  });
  afterAll(() => fixture.ledger.stop());
  return fixture;
}
