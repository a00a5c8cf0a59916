import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aRunningTenant, aTenant, anEvent } from '../support/builders.js';
import { client, runPdl as pdl, startLedger, tempDir, type LedgerProcess } from '../support/ledger-process.js';

/** A file of events as `pdl import` reads them: one JSON event per line, blank lines allowed. */
function eventsFile(events: readonly unknown[], dir = tempDir()): string {
  const file = join(dir, 'events.ndjson');
  const lines = events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  lines.splice(3, 0, '');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Every event of the subject in the audit trail, page after page. */
async function subjectEvents(ledger: LedgerProcess, token: string, subject: string): Promise<any[]> {
  const items = [];
  for (let cursor = ''; ;) {
    const page = (await client(ledger.base, token)('GET', `/v1/tenants/chatbox/events?subject=${encodeURIComponent(subject)}&limit=1000${cursor}`)).json;
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
  }
}

describe('pdl import and pdl export, against a running ledger', () => {
  const running = aRunningTenant();

  it('imports a file of events in order, in batches, and recognises them when it is imported again', async () => {
    const subject = `visitor:import-${Date.now()}`;
    const events = Array.from({ length: 1205 }, (_, i) => anEvent({ subject: { id: subject, identifiers: { ip: `10.1.${i % 250}.${i % 7}` } } }));
    const file = eventsFile(events);
    const first = await pdl(['import', file, '--tenant', 'chatbox', '--url', running.ledger.base], { PDL_TOKEN: running.t.tokens.emitter });
    expect([first.status, first.stderr.slice(-300)]).toEqual([0, expect.any(String)]);
    expect(first.stdout).toContain('imported 1205 events');
    expect(first.stdout).toContain('1205 recorded, 0 already in the log');
    const recorded = await subjectEvents(running.ledger, running.t.tokens.dpo, subject);
    // In the file's order, identifiers sealed and opened again like any appended event's.
    expect(recorded.map((x: any) => x.event.eventId)).toEqual(events.map((e) => e.eventId));
    expect(recorded[4].event.subject.identifiers).toEqual({ ip: '10.1.4.4' });
    const again = await pdl(['import', file, '--tenant', 'chatbox', '--url', running.ledger.base], { PDL_TOKEN: running.t.tokens.emitter });
    expect([again.status, again.stdout]).toEqual([0, expect.stringContaining('0 recorded, 1205 already in the log')]);
    expect(await subjectEvents(running.ledger, running.t.tokens.dpo, subject)).toHaveLength(1205);
    // What the compliance engine found in what was imported, by finding code.
    const odd = eventsFile([anEvent({ purpose: 'no-such-purpose' }), anEvent({ purpose: 'no-such-purpose' }), anEvent({ system: 'nowhere' }), anEvent()]);
    const judged = await pdl(['import', odd, '--tenant', 'chatbox', '--url', running.ledger.base], { PDL_TOKEN: running.t.tokens.emitter });
    expect(judged.status).toBe(0);
    expect(judged.stdout).toMatch(/4 recorded, 0 already in the log \(duplicates\), 3 with findings \(purpose-undeclared 2, system-unknown 1\)/);
  }, 60_000);

  it('stops at a line that is not an event, naming it, with the batches before it recorded', async () => {
    const subject = `visitor:broken-${Date.now()}`;
    const events: unknown[] = Array.from({ length: 1100 }, () => anEvent({ subject: { id: subject } }));
    events[1050] = { ...anEvent({ subject: { id: subject } }), occurredAt: 'yesterday' };
    const file = eventsFile(events);
    const r = await pdl(['import', file, '--tenant', 'chatbox', '--url', running.ledger.base], { PDL_TOKEN: running.t.tokens.emitter });
    expect(r.status).toBe(1);
    // Line 1052 of the file: one blank line comes before it.
    expect(r.stderr).toContain('line 1052 (occurredAt)');
    expect(r.stderr).toContain('nothing of the batch of lines 1002-1101 was recorded');
    expect(r.stdout).toContain('imported 1000 of 1100 events');
    expect(await subjectEvents(running.ledger, running.t.tokens.dpo, subject)).toHaveLength(1000);
    const notJson = await pdl(['import', eventsFile([anEvent(), anEvent(), 'not json']), '--tenant', 'chatbox', '--url', running.ledger.base], { PDL_TOKEN: running.t.tokens.emitter });
    expect([notJson.status, notJson.stderr]).toEqual([1, expect.stringContaining('line 3 is not JSON')]);
    expect(notJson.stdout).toContain('imported 2 of 3 events');
    // A JSON array of events, pretty-printed or on one line, is named as such; a byte order mark is no part of the first line.
    const dir = tempDir();
    const asArray = (name: string, text: string) => { writeFileSync(join(dir, name), text); return pdl(['import', join(dir, name), '--tenant', 'chatbox', '--url', running.ledger.base], { PDL_TOKEN: running.t.tokens.emitter }); };
    const hint = 'the file must hold one event per line (NDJSON), not a JSON array of them';
    expect((await asArray('pretty.json', JSON.stringify([anEvent(), anEvent()], null, 2))).stderr).toContain(`line 1 is not JSON: ${hint}`);
    expect((await asArray('one-line.json', JSON.stringify([anEvent(), anEvent()]))).stderr).toContain(`line 1 is a list: ${hint}`);
    const bom = await asArray('bom.ndjson', `\uFEFF${JSON.stringify(anEvent())}\r\n${JSON.stringify(anEvent())}\r\n`);
    expect([bom.status, bom.stdout]).toEqual([0, expect.stringContaining('imported 2 events')]);
    const noToken = await pdl(['import', file, '--tenant', 'chatbox', '--url', running.ledger.base], { PDL_TOKEN: running.t.tokens.auditor });
    expect([noToken.status, noToken.stderr]).toEqual([1, expect.stringContaining('403')]);
    expect((await pdl(['import', join(tempDir(), 'none.ndjson'), '--tenant', 'chatbox'])).status).toBe(2);
    expect((await pdl(['import', file])).stderr).toContain('--tenant');
  }, 60_000);

  it('exports the log as the API does, which pdl verify then checks, and never writes over a file', async () => {
    const dir = tempDir();
    const out = join(dir, 'log.ndjson');
    const r = await pdl(['export', '--tenant', 'chatbox', '--url', running.ledger.base, '--out', out], { PDL_TOKEN: running.t.tokens.auditor });
    expect([r.status, r.stderr]).toEqual([0, expect.stringMatching(/exported \d+ entries of tenant "chatbox" \(positions 0 to \d+\)/)]);
    const written = readFileSync(out, 'utf8');
    const n = written.split('\n').length - 1;
    const api = await client(running.ledger.base, running.t.tokens.auditor)('GET', `/v1/tenants/chatbox/log/export?to=${n}`);
    expect(written).toBe(api.text);
    expect((await pdl(['verify', out])).status).toBe(0);
    // A range, to standard output.
    const some = await pdl(['export', '--tenant', 'chatbox', '--url', running.ledger.base, '--from', '2', '--to', '5'], { PDL_TOKEN: running.t.tokens.emitter });
    expect(some.stdout).toBe(written.split('\n').slice(2, 5).map((l) => `${l}\n`).join(''));
    const again = await pdl(['export', '--tenant', 'chatbox', '--url', running.ledger.base, '--out', out], { PDL_TOKEN: running.t.tokens.auditor });
    expect([again.status, again.stderr]).toEqual([2, expect.stringContaining('it exists already')]);
    expect(readFileSync(out, 'utf8')).toBe(written);
    const beyond = await pdl(['export', '--tenant', 'chatbox', '--url', running.ledger.base, '--to', String(n + 1_000_000), '--out', join(dir, 'x.ndjson')], { PDL_TOKEN: running.t.tokens.auditor });
    expect([beyond.status, beyond.stderr]).toEqual([2, expect.stringContaining('Tree size out of range')]);
    expect(existsSync(join(dir, 'x.ndjson'))).toBe(false);
  }, 60_000);
});

describe('pdl import and pdl export on the embedded ledger of a data directory', () => {
  it('serves it for the import with a token issued and revoked for it, and exports it read-only', async () => {
    const ledger = await startLedger();
    const adminToken = ledger.adminToken;
    await aTenant(ledger);
    await ledger.stop();
    const env = { PDL_DATA_DIR: ledger.dataDir, PDL_ADMIN_TOKEN: adminToken };
    const events = Array.from({ length: 20 }, () => anEvent());
    const imported = await pdl(['import', eventsFile(events), '--tenant', 'chatbox'], env);
    expect([imported.status, imported.stderr.slice(-300)]).toEqual([0, expect.any(String)]);
    expect(imported.stdout).toContain('20 recorded');
    const out = join(tempDir(), 'log.ndjson');
    const exported = await pdl(['export', '--tenant', 'chatbox', '--out', out], env);
    expect([exported.status, exported.stderr.slice(-300)]).toEqual([0, expect.any(String)]);
    const entries = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.filter((e) => events.some((x) => x.eventId === e.eventId))).toHaveLength(20);
    // The import's token: issued by the admin for it, and revoked at its end, both in the log.
    const issued = entries.filter((e) => e.type === 'token-issued' && e.token?.label === 'pdl import');
    expect(issued).toHaveLength(1);
    expect(entries.filter((e) => e.type === 'token-revoked' && e.token.id === issued[0].token.id)).toHaveLength(1);
    // Exporting recorded nothing: exported again, the same bytes.
    const second = join(tempDir(), 'log.ndjson');
    expect((await pdl(['export', '--tenant', 'chatbox', '--out', second], env)).status).toBe(0);
    expect(readFileSync(second, 'utf8')).toBe(readFileSync(out, 'utf8'));
  }, 90_000);
});
