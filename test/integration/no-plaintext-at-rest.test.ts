import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { aTenant, anEvent } from '../support/builders.js';
import { startLedger } from '../support/ledger-process.js';

const filesUnder = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));

describe('identifiers at rest', () => {
  it('appear in no file of the data directory, running or stopped, and not in the logs', async () => {
    const ledger = await startLedger();
    const t = await aTenant(ledger);
    const values = ['198.18.77.201', 'rest-scan@example.org', '+33 6 12 34 56 78', 'Ada Lovelace-Scan'];
    const events = Array.from({ length: 50 }, (_, i) => anEvent({
      subject: { id: `visitor:scan-${i}`, identifiers: { ip: values[0], email: values[1], phone: values[2], name: values[3] } },
      categories: ['user.device.ip_address', 'user.contact.email'],
    }));
    expect((await t.emitter('POST', `${t.P}/events`, { events })).status).toBe(200);
    const dpoView = await t.dpo('GET', `${t.P}/events?subject=visitor:scan-3`);
    expect(dpoView.text).toContain(values[1]);
    const scan = () => filesUnder(ledger.dataDir).flatMap((f) => values.filter((v) => readFileSync(f).includes(Buffer.from(v))).map((v) => `${f}: ${v}`));
    expect(scan()).toEqual([]);
    await ledger.stop();
    expect(scan()).toEqual([]);
    for (const v of values) expect(ledger.output()).not.toContain(v);
  });
});
