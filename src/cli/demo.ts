import type { PdlConfig } from '../config/config.js';
import { DEMO_PURPOSES, DEMO_RECIPIENTS, DEMO_SYSTEMS, DEMO_TENANT } from '../demo/chatbox.js';
import { demoVisitorStream, type DemoEvent, type DemoVisitor } from '../demo/story.js';
import { UsageError } from './verify.js';
import { jsonRequest, keepAliveAgent } from '../common/http/json-request.js';
import { embeddedAdminToken, progress, refusal, serveEmbedded } from './ledger-connection.js';

export interface DemoOptions {
  readonly visitors: number;
  readonly seed: number;
  readonly tenant: string;
  /** A running ledger; absent: the embedded one of the configured data directory, started in this process. */
  readonly url?: string;
  readonly adminToken?: string;
}

const agents = new Map<string, ReturnType<typeof keepAliveAgent>>();
const call = (base: string, token: string, method: string, path: string, body?: unknown) => {
  let agent = agents.get(base);
  if (!agent) agents.set(base, (agent = keepAliveAgent(base, 16)));
  return jsonRequest(base, method, path, { token, body, agent });
};

const BATCH = 500;
/** Visitors whose events are told and whose requests wait to be played: beyond, the story waits. */
const MAX_WAITING_FLOWS = 1000;
const IN_FLIGHT = 4;

/**
 * `pdl demo`: tells the chat-box story with `visitors` visitors over six simulated months into a
 * running ledger (`--url`, admin token from PDL_ADMIN_TOKEN) or into the embedded one (started here on
 * a free port, stopped at the end); then says what to open. Refuses a tenant that already holds events.
 */
export async function demo(options: DemoOptions, config: PdlConfig, out: (s: string) => void, status: (s: string) => void, tty: boolean): Promise<number> {
  let base = options.url;
  let admin = options.adminToken;
  let stop: (() => Promise<void>) | null = null;
  if (!base) {
    const running = await serveEmbedded(config);
    base = running.url;
    stop = running.stop;
    admin ??= embeddedAdminToken(config);
  }
  try {
    if (!admin) throw new UsageError('set PDL_ADMIN_TOKEN to the admin token of the running ledger');
    const P = `/v1/tenants/${options.tenant}`;
    const put = await call(base, admin, 'PUT', P, DEMO_TENANT);
    if (put.status !== 200 && put.status !== 201) throw new UsageError(`could not create the tenant: ${refusal(put)}`);
    const tokens: Record<string, string> = {};
    for (const role of ['dpo', 'legal', 'auditor', 'emitter']) {
      const r = await call(base, admin, 'POST', `${P}/tokens`, { role, label: `pdl demo ${role}` });
      if (r.status !== 201) throw new Error(`could not issue a ${role} token: ${r.status}`);
      tokens[role] = r.json.token;
    }
    if (((await call(base, tokens.auditor!, 'GET', `${P}/events?limit=1`)).json?.items ?? []).length) {
      throw new UsageError(`tenant "${options.tenant}" already holds events; tell the story into another one (--tenant)`);
    }
    for (const [kind, list] of [['systems', DEMO_SYSTEMS], ['recipients', DEMO_RECIPIENTS], ['purposes', DEMO_PURPOSES]] as const) {
      for (const { id, ...body } of list) {
        const r = await call(base, tokens.dpo!, 'PUT', `${P}/${kind}/${id}`, body);
        if (r.status >= 300) throw new Error(`could not declare ${kind} ${id}: ${refusal(r)}`);
      }
    }
    const started = Date.now();
    // The story is made one visitor at a time as it is told (a million events do not fit the heap at
    // once); a first pass only counts its events, for the progress bar.
    let total = 0;
    for (const v of demoVisitorStream(options.visitors, options.seed)) total += v.events.length + v.flow.reduce((m, s) => m + ('events' in s ? s.events.length : 0), 0);
    const show = progress(total, status, tty);
    let done = 0;
    const send = async (events: DemoEvent[]) => {
      const r = await call(base, tokens.emitter!, 'POST', `${P}/events`, { events });
      if (r.status !== 200) throw new Error(`the ledger refused a batch: ${refusal(r)}`);
      done += events.length;
      show(done);
    };
    // The visitors' own events, whole visitors per batch (their order matters), a few batches in flight;
    // a visitor longer than a batch is told alone, batch after batch, at the end. Each visitor's requests
    // (and what answers them) are played once its events are in, in order, several visitors at a time.
    const story = demoVisitorStream(options.visitors, options.seed);
    let told = 0;
    // The visitor whose report the end suggests: the first chatter who withdrew a consent, else the first chatter.
    let first: DemoVisitor | undefined, firstChatter: DemoVisitor | undefined, withdrew: DemoVisitor | undefined;
    let exhausted = false;
    let carried: DemoVisitor | undefined;
    const long: DemoVisitor[] = [];
    const flows: Array<{ v: DemoVisitor; sent: Promise<void> }> = [];
    const waiting = new Set<() => void>();
    const wake = () => { for (const w of [...waiting]) w(); waiting.clear(); };
    const changed = () => new Promise<void>((r) => waiting.add(r));
    const nextBatch = (): { events: DemoEvent[]; sent: () => void } | null => {
      let sent!: () => void;
      const isSent = new Promise<void>((r) => { sent = r; });
      const events: DemoEvent[] = [];
      for (;;) {
        const v = carried ?? (exhausted ? undefined : story.next().value as DemoVisitor | undefined);
        carried = undefined;
        if (!v) { exhausted = true; break; }
        first ??= v;
        if (v.kind === 'chatter') {
          firstChatter ??= v;
          if (!withdrew && v.events.some((e) => e.type === 'consent-withdrawn')) withdrew = v;
        }
        if (v.events.length > BATCH) { long.push(v); told++; continue; }
        if (events.length && events.length + v.events.length > BATCH) { carried = v; break; }
        told++;
        events.push(...v.events);
        if (v.flow.length) { flows.push({ v, sent: isSent }); wake(); }
      }
      return events.length ? { events, sent } : null;
    };
    const events = (async () => {
      try {
        await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
          for (;;) {
            // The requests keep up, or the story waits for them.
            while (flows.length > MAX_WAITING_FLOWS) await changed();
            const b = nextBatch();
            if (!b) break;
            await send(b.events);
            b.sent();
          }
        }));
        for (const v of long) for (let i = 0; i < v.events.length; i += BATCH) await send(v.events.slice(i, i + BATCH));
      } finally {
        exhausted = true;
        wake();
      }
    })();
    let requests = 0;
    const requestsDone = Promise.all(Array.from({ length: 8 }, async () => {
      for (;;) {
        const f = flows.shift();
        if (!f) { if (exhausted) return; await changed(); continue; }
        wake();
        await f.sent;
        const made = await playFlow(base, P, tokens, f.v, send);
        requests += made;
      }
    }));
    await Promise.all([events, requestsDone]);
    show(done, true);
    const seconds = (Date.now() - started) / 1000;
    const findings = await countFindings(base, P, tokens.auditor!);
    const chatter = withdrew ?? firstChatter ?? first!;
    const shownBase = options.url ?? `http://localhost:${config.httpPort}`;
    const curl = (role: string, path: string, file?: string) => `  curl -H 'Authorization: Bearer ${tokens[role]}' '${shownBase}${P}${path}'${file ? ` -o ${file}` : ''}`;
    out([
      `Told the chat-box story: ${told} visitors, ${done} events and ${requests} requests in ${seconds.toFixed(1)} s (${Math.round(done / Math.max(seconds, 0.001))} events/s).`,
      `Findings raised: ${findings.total} (${Object.entries(findings.byCode).map(([c, n]) => `${c} ${n}`).join(', ')}).`,
      '',
      `Tokens of tenant "${options.tenant}" (dpo, legal, auditor, emitter): ${['dpo', 'legal', 'auditor', 'emitter'].map((r) => `${r}=${tokens[r]}`).join(' ')}`,
      '',
      options.url ? 'Open:' : 'Start the ledger (npm start), then open:',
      `  # the Art. 15 report of ${chatter.id}, as a page to send the person`,
      curl('dpo', `/subjects/${encodeURIComponent(chatter.id)}/report?format=html`, 'report.html'),
      '  # the records of processing (Art. 30), with what was observed but never declared, as a page to print (or ?format=csv)',
      curl('auditor', '/ropa?format=html', 'ropa.html'),
      '  # the findings: what broke the declared policy',
      curl('auditor', '/findings?limit=20'),
      '  # what went to the police, and under which request',
      curl('legal', '/disclosures?recipientKind=public-authority'),
      '  # who read whose data',
      curl('auditor', '/access-log'),
    ].join('\n'));
    return 0;
  } finally {
    await stop?.();
  }
}

/** Plays a visitor's requests in order; `$request` is the id the flow's first call answered. */
async function playFlow(base: string, P: string, tokens: Record<string, string>, v: DemoVisitor, send: (events: DemoEvent[]) => Promise<void>): Promise<number> {
  let request = '';
  let calls = 0;
  const subst = <T>(x: T): T => JSON.parse(JSON.stringify(x).replaceAll('$request', request)) as T;
  for (const step of v.flow) {
    if ('events' in step) { await send(subst(step.events)); continue; }
    const c = step.call;
    const r = await call(base, tokens[c.as]!, c.method, `${P}${subst(c.path)}`, subst(c.body));
    if (r.status !== c.expect) throw new Error(`${c.method} ${c.path} for ${v.id} answered ${r.status}, the story expected ${c.expect}: ${r.text.slice(0, 300)}`);
    if (!request && r.json?.id) { request = r.json.id; calls++; }
  }
  return calls;
}

async function countFindings(base: string, P: string, token: string) {
  const byCode: Record<string, number> = {};
  let total = 0;
  for (let cursor: string | null = null; ;) {
    const r = await call(base, token, 'GET', `${P}/findings?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (r.status !== 200) break;
    for (const f of r.json.items) { byCode[f.code] = (byCode[f.code] ?? 0) + 1; total++; }
    cursor = r.json.nextCursor;
    if (!cursor) break;
  }
  return { total, byCode };
}
