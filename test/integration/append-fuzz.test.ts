import fc from 'fast-check';
import { aTenant, anEvent } from '../support/builders.js';
import { startLedger, type LedgerProcess } from '../support/ledger-process.js';

let ledger: LedgerProcess;
let t: Awaited<ReturnType<typeof aTenant>>;
beforeAll(async () => { ledger = await startLedger(); t = await aTenant(ledger); });
afterAll(() => ledger.stop());

const isProblem = (r: { type: string; json: any; status: number }) => r.type.startsWith('application/problem+json') && r.json?.status === r.status;

describe('the append endpoint under fuzzing', () => {
  it('never answers 5xx to arbitrary JSON in place of events and fields', async () => {
    const field = fc.constantFrom('eventId', 'type', 'subject', 'categories', 'purpose', 'system', 'occurredAt', 'actor', 'details', 'extra');
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(field, fc.jsonValue()), { maxLength: 4 }), fc.jsonValue(), async (mutations, whole) => {
      const e: Record<string, unknown> = anEvent();
      for (const [k, v] of mutations) e[k] = v;
      for (const body of [{ events: [e] }, { events: [whole] }, whole]) {
        const r = await t.emitter('POST', `${t.P}/events`, body === undefined ? 'null' : body);
        if (r.status >= 500 || (r.status !== 200 && !isProblem(r))) throw new Error(`${r.status} ${r.text.slice(0, 200)}`);
      }
    }), { numRuns: 150 });
  });

  it('never answers 5xx to corrupted bytes', async () => {
    const seed = Buffer.from(JSON.stringify({ events: [anEvent()] }));
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat({ max: seed.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), async (flips) => {
      const b = Buffer.from(seed);
      for (const [i, v] of flips) b[i] = v;
      const r = await t.emitter('POST', `${t.P}/events`, b.toString('latin1'));
      if (r.status >= 500 || !(r.status === 200 || isProblem(r))) throw new Error(`${r.status} ${r.text.slice(0, 200)}`);
    }), { numRuns: 300 });
  });
});
