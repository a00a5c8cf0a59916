import { scenario, type aTenant } from './builders.js';

type Tenant = Awaited<ReturnType<typeof aTenant>>;
export type CallResult = { status: number; text: string; json: any };

/**
 * Tells the reference story to a started ledger over HTTP: events in batches of three (emitter), calls
 * as the dpo, `$name` placeholders replaced by the ids earlier calls answered. `before` runs before each
 * step (to note a moment between two steps).
 */
export async function playScenario(t: Tenant, before?: (step: any, index: number) => Promise<void> | void) {
  const results: Record<string, { status: string; position: number; findings: Array<{ code: string; severity: string; message: string }> }> = {};
  const calls: Record<string, CallResult> = {};
  const names: Record<string, string> = {};
  const subst = (v: unknown): any => JSON.parse(JSON.stringify(v ?? null).replace(/\$([A-Za-z]+)/g, (m, n) => names[n] ?? m));
  let pending: unknown[] = [];
  const flush = async () => {
    if (!pending.length) return;
    const r = await t.emitter('POST', `${t.P}/events`, { events: pending });
    if (r.status !== 200) throw new Error(`append answered ${r.status}: ${r.text.slice(0, 300)}`);
    for (const x of r.json.results) results[x.eventId] = x;
    pending = [];
  };
  for (const [i, step] of scenario.steps.entries()) {
    if (before) { await flush(); await before(step, i); }
    if (step.kind === 'event') { pending.push(subst(step.event)); if (pending.length === 3) await flush(); continue; }
    await flush();
    const r = await t.dpo(step.method, `${t.P}${subst(step.path)}`, step.body === undefined ? undefined : subst(step.body));
    calls[step.name] = r;
    if (r.json?.id) names[step.name] = r.json.id;
  }
  await flush();
  return { results, calls, names, subst };
}

/** Every item of a paged list, following `nextCursor`. */
export async function allItems(call: Tenant['dpo'], path: string): Promise<any[]> {
  const out: any[] = [];
  for (let cursor: string | null = null, i = 0; i < 100; i++) {
    const r = await call('GET', `${path}${cursor ? `${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${r.text.slice(0, 300)}`);
    out.push(...r.json.items);
    cursor = r.json.nextCursor;
    if (!cursor) break;
  }
  return out;
}
