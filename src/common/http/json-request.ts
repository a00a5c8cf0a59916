import http from 'node:http';
import https from 'node:https';

export interface JsonAnswer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of our own API, read field by field
  readonly json: any;
  /** Milliseconds from sending to the last byte (before decoding it). */
  readonly ms: number;
  readonly headers: http.IncomingHttpHeaders;
}

export interface JsonRequest {
  readonly body?: unknown;
  readonly token?: string;
  readonly headers?: Record<string, string>;
  /** For an `https:` base, an `https.Agent` (with its `ca` for a private certificate authority, say). */
  readonly agent?: http.Agent;
}

/**
 * One HTTP request to a pdl server with node:http, or node:https for an `https:` base (a keep-alive
 * agent is much cheaper than `fetch` under load): `path` is sent as given; a body that is not a string is
 * sent as JSON; the answer's text is parsed as JSON when it is.
 */
export function jsonRequest(base: string, method: string, path: string, options: JsonRequest = {}): Promise<JsonAnswer> {
  const u = new URL(base);
  const headers: Record<string, string | number> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: Buffer | undefined;
  if (options.body !== undefined) {
    payload = Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = payload.length;
  }
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = transportOf(base).request({ host: u.hostname, port: u.port, method, path, headers, ...(options.agent ? { agent: options.agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - started;
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text, json, ms, headers: res.headers });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** node:http, or node:https for an `https:` base. */
export const transportOf = (base: string) => (new URL(base).protocol === 'https:' ? https : http);

/** A keep-alive agent for `base`'s protocol (a private certificate authority is trusted with `NODE_EXTRA_CA_CERTS`). */
export const keepAliveAgent = (base: string, maxSockets: number): http.Agent => new (transportOf(base).Agent)({ keepAlive: true, maxSockets });
