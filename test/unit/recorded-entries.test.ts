import { decodeLogEntry } from '../../src/ledger/domain/log-entry.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import { PurposeBody, SystemBody } from '../../src/declarations/domain/declaration.js';
import { TenantBody } from '../../src/tenancy/domain/tenant.js';
import { anEvent } from '../support/builders.js';

/** Entries as a ledger wrote them before 2026-12-02, when countries were two capitals and durations unbounded. */
const header = (type: string, position: number) => ({
  v: 1, tenant: 'acme', position, eventId: `0c5b0000-0000-4000-8000-00000000000${position}`, recordedAt: '2026-12-01T10:00:00Z', type,
  actor: { type: 'admin', id: 'bootstrap' }, ...(position ? { prev: 'ab'.repeat(32) } : {}),
});
const tenant = { ...header('tenant-declared', 0), settings: { name: 'Acme', residency: ['XX', 'EEA'] } };
const purpose = { ...header('purpose-declared', 1), declaration: { id: 'forever', version: 1, body: { title: 'F', legalBasis: 'contract', categories: ['user.contact.email'], retention: { period: 'P999999999Y', from: 'collection', minimum: 'P5000Y' } } } };
const system = { ...header('system-declared', 2), declaration: { id: 'uk', version: 1, body: { name: 'UK', country: 'UK' } } };
const transfer = (() => {
  const e = anEvent({ type: 'transferred', details: { country: 'UK', mechanism: 'none' } });
  const { eventId: _eventId, actor: _actor, subject, ...rest } = e;
  return { ...header('transferred', 3), ...rest, subject: { id: subject.id }, actor: { type: 'service', id: 'api' } };
})();

describe('entries recorded under earlier, looser rules', () => {
  it('are read back as they were written, though the same values are refused as input now', () => {
    for (const entry of [tenant, purpose, system, transfer]) {
      const r = decodeLogEntry(entry);
      expect([entry.type, r._tag === 'Right' ? 'decoded' : r.left]).toEqual([entry.type, 'decoded']);
    }
    expect(TenantBody.decode(tenant.settings)._tag).toBe('Left');
    expect(PurposeBody.decode(purpose.declaration.body)._tag).toBe('Left');
    expect(SystemBody.decode(system.declaration.body)._tag).toBe('Left');
    expect(decodeAppendBody({ events: [anEvent({ type: 'transferred', details: { country: 'UK', mechanism: 'none' } })] })._tag).toBe('Left');
  });

  it('still refuse what was never accepted', () => {
    expect(decodeLogEntry({ ...system, declaration: { ...system.declaration, body: { name: 'S', country: 'nl' } } })._tag).toBe('Left');
    expect(decodeLogEntry({ ...purpose, declaration: { ...purpose.declaration, body: { ...purpose.declaration.body, retention: { period: 'soon', from: 'collection' } } } })._tag).toBe('Left');
    expect(decodeLogEntry({ ...tenant, settings: { name: 'Acme', residency: ['EFTA'] } })._tag).toBe('Left');
  });
});
