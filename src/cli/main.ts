import { resolve } from 'node:path';
import { loadConfig, type PdlConfig } from '../config/config.js';
import { TenantId } from '../tenancy/domain/tenant.js';
import { NoLedger } from '../storage/open-storage.js';
import { requireFile, UsageError, verifyExport } from './verify.js';
import { pushTo } from '../common/kernel/multimap.js';

const USAGE = `usage: pdl <command>

commands:
  serve     run the ledger (HTTP on PDL_HTTP_PORT, gRPC on PDL_GRPC_PORT, data in PDL_DATA_DIR)
  verify <export.ndjson> [--checkpoint cp.json] [--key <key|keys.json>] [--previous older-cp.json]
            check an exported tenant log offline: positions, chain, Merkle root, checkpoint signature;
            exit 0 when intact, 1 naming the first bad position, 2 when the inputs cannot be used
  verify --data-dir <dir> [--tenant <id>]
            check a ledger's own store (every tenant, or one) against its Merkle tree and signed checkpoints
  verify --backup <dir> [--keys <dir>]
            check a backup made by pdl backup: every file its backup.json lists, byte for byte (keys.db
            taken apart, in --keys), then the log it holds as --data-dir does
  demo [--visitors N] [--seed S] [--tenant id] [--url http://host:port]
            tell the reference chat-box story (N visitors over six simulated months) into the
            embedded ledger of PDL_DATA_DIR, or a running one (--url, admin token in PDL_ADMIN_TOKEN),
            then say what to open
  import <file.ndjson> --tenant <id> [--url http://host:port] [--data-dir <dir>]
            record the processing events of a file (one JSON event per line, as POST …/events takes
            them), in order, through the ledger's append path; idempotent by eventId, so an interrupted
            import is simply run again. Into the embedded ledger of PDL_DATA_DIR, or a running one
            (--url, an emitter or dpo token in PDL_TOKEN)
  export --tenant <id> [--out <file>] [--from N] [--to N] [--url http://host:port] [--data-dir <dir>]
            write the tenant's log as NDJSON, exactly the bytes that were hashed (what pdl verify
            checks), into a file or to standard output; from the embedded ledger of PDL_DATA_DIR, or a
            running one (--url, any token of the tenant in PDL_TOKEN)
  backup <dir> [--keys <dir>] [--data-dir <dir>]
            copy the embedded ledger of PDL_DATA_DIR into <dir> (new or empty) while it serves: the log,
            its checkpoints and signing keys, each file one consistent snapshot, checked like verify
            --data-dir; with --keys, keys.db too, into <dir> or a directory of its own. Never the master
            key. The copy is a data directory: start a ledger on it (with the master key) to restore
  retention enforce [--at <time>] [--data-dir <dir>]
            destroy the keys of a stopped ledger whose legal hold has ended by <time> (default now)
  forget <subject> --tenant <id> [--reason <text>] [--data-dir <dir>]
            forget a subject as a whole (recorded in the log): destroy every key of it no legal hold keeps;
            a subject of which no processing event was recorded (a mistyped id) is refused, nothing recorded
  keys rotate-master [--data-dir <dir>]
            re-wrap every data key of a stopped ledger under a new master key: PDL_NEW_MASTER_KEY, or a new
            key written to <data dir>/master.key (then set PDL_MASTER_KEY to the new key, if you use it);
            with PDL_STORE=postgres or eventstoredb, the keys in PostgreSQL, every ledger process stopped
  rebuild [--data-dir <dir>]
            drop the read models of a stopped ledger and fold them again from the log
            (resumable; the log, its proofs and the keys are not touched)
  help      show this text
`;

/** `--name value` options (repeatable) and positional arguments. */
function options(argv: string[], known: readonly string[]): { positional: string[]; values: Map<string, string[]> } {
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      pushTo(values, name, v);
    } else positional.push(a);
  }
  return { positional, values };
}

/** The configuration with `--data-dir`, when given, as its data directory. */
const withDataDir = (config: PdlConfig, values: Map<string, string[]>): PdlConfig => {
  const dir = values.get('data-dir')?.[0];
  return dir ? { ...config, dataDir: resolve(dir) } : config;
};

/** `--tenant`, a tenant id (or `fallback` when not given). */
function tenantOption(values: Map<string, string[]>, fallback?: string): string {
  const tenant = values.get('tenant')?.[0] ?? fallback;
  if (!tenant || !TenantId.is(tenant)) throw new UsageError('--tenant <id> is needed: lowercase letters, digits and "-"');
  return tenant;
}

/** `--url`, the base URL of a running ledger, when given. */
function urlOption(values: Map<string, string[]>): { url?: string } {
  const url = values.get('url')?.[0];
  if (url !== undefined && !/^https?:\/\/[^/]+\/?$/.test(url)) throw new UsageError('--url must be the base URL of a running ledger, such as http://localhost:3000');
  return url === undefined ? {} : { url };
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'serve': {
      const { startLedger } = await import('../bootstrap.js');
      await startLedger(loadConfig());
      return -1;
    }
    case 'verify': try {
      const { positional, values } = options(argv.slice(1), ['checkpoint', 'key', 'previous', 'data-dir', 'tenant', 'backup', 'keys']);
      const write = (s: string) => process.stdout.write(`${s}\n`);
      const warn = (s: string) => process.stderr.write(`${s}\n`);
      if (values.has('backup')) {
        const { verifyBackup } = await import('./backup.js');
        return await verifyBackup(values.get('backup')![0]!, values.get('keys')?.[0], write, warn);
      }
      if (values.has('data-dir')) {
        const { verifyStore } = await import('./verify-store.js');
        return verifyStore(values.get('data-dir')![0]!, values.get('tenant')?.[0], write, warn);
      }
      if (positional.length !== 1) throw new UsageError('verify takes one export file (or --data-dir)');
      return await verifyExport({ file: positional[0]!, checkpoint: values.get('checkpoint')?.[0], previous: values.get('previous') ?? [], keys: values.get('key') ?? [] }, write, warn);
    } catch (e) {
      // Whatever stops the check itself (unreadable files, bad options) is not a verdict on the log.
      throw e instanceof UsageError ? e : new UsageError(e instanceof Error ? e.message : String(e));
    }
    case 'demo': {
      const { values, positional } = options(argv.slice(1), ['visitors', 'seed', 'tenant', 'url']);
      if (positional.length) throw new UsageError('demo takes no argument besides its options');
      const int = (name: string, fallback: number, max: number) => {
        const v = values.get(name)?.[0];
        if (v === undefined) return fallback;
        if (!/^\d{1,9}$/.test(v) || Number(v) < 1 || Number(v) > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}`);
        return Number(v);
      };
      const tenant = tenantOption(values, 'chatbox');
      const { url } = urlOption(values);
      const { demo } = await import('./demo.js');
      const config = loadConfig();
      return demo({ visitors: int('visitors', 1000, 10_000_000), seed: int('seed', 1, 2 ** 31), tenant, ...(url ? { url, adminToken: config.adminToken } : {}) },
        config, (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(s), process.stderr.isTTY === true);
    }
    case 'import':
    case 'export': {
      const { values, positional } = options(argv.slice(1), command === 'import' ? ['tenant', 'url', 'data-dir'] : ['tenant', 'url', 'data-dir', 'out', 'from', 'to']);
      const config = withDataDir(loadConfig(), values);
      const target = { tenant: tenantOption(values), ...urlOption(values), ...(process.env.PDL_TOKEN ? { token: process.env.PDL_TOKEN } : {}) };
      const tty = process.stderr.isTTY === true;
      const { exportLog, importEvents } = await import('./transfer.js');
      if (command === 'import') {
        if (positional.length !== 1) throw new UsageError('usage: pdl import <file.ndjson> --tenant <id> [--url http://host:port]');
        requireFile(positional[0]!);
        return importEvents({ ...target, file: positional[0]! }, config, (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(s), tty);
      }
      if (positional.length) throw new UsageError('export takes no argument besides its options');
      const position = (name: string) => {
        const v = values.get(name)?.[0];
        if (v !== undefined && !/^\d{1,15}$/.test(v)) throw new UsageError(`--${name} must be a log position (a whole number)`);
        return v === undefined ? {} : { [name]: Number(v) };
      };
      const out = values.get('out')?.[0];
      return exportLog({ ...target, ...(out ? { out } : {}), ...position('from'), ...position('to') }, config, process.stdout, (s) => process.stderr.write(s), tty && out !== undefined && out !== '-');
    }
    case 'backup': {
      const { values, positional } = options(argv.slice(1), ['keys', 'data-dir']);
      if (positional.length !== 1) throw new UsageError('usage: pdl backup <dir> [--keys <dir>] [--data-dir <dir>]');
      const config = withDataDir(loadConfig(), values);
      if (config.store !== 'sqlite') throw new UsageError(`pdl backup copies the embedded store; with PDL_STORE=${config.store}, back up PostgreSQL${config.store === 'eventstoredb' ? ' and EventStoreDB' : ''} with their own tools (see the README)`);
      const { backup } = await import('./backup.js');
      const keysTo = values.get('keys')?.[0];
      return backup({ dataDir: config.dataDir, out: positional[0]!, ...(keysTo !== undefined ? { keysTo } : {}) }, (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`));
    }
    case 'retention': {
      const [sub, ...rest] = argv.slice(1);
      if (sub !== 'enforce') throw new UsageError('usage: pdl retention enforce [--at <time>] [--data-dir <dir>]');
      const { values, positional } = options(rest, ['at', 'data-dir']);
      if (positional.length) throw new UsageError('retention enforce takes no argument besides its options');
      const at = values.get('at')?.[0];
      if (at !== undefined && Number.isNaN(Date.parse(at))) throw new UsageError('--at must be an RFC 3339 time such as 2027-02-01T00:00:00Z');
      const { enforce } = await import('./erasure.js');
      const config = loadConfig();
      return enforce(withDataDir(config, values), at, (s) => process.stdout.write(`${s}\n`));
    }
    case 'keys': {
      const [sub, ...rest] = argv.slice(1);
      if (sub !== 'rotate-master') throw new UsageError('usage: pdl keys rotate-master [--data-dir <dir>]');
      const { values, positional } = options(rest, ['data-dir']);
      if (positional.length) throw new UsageError('keys rotate-master takes no argument besides --data-dir');
      const config = loadConfig();
      const { rotateMasterKey, rotateMasterKeyOnPostgres } = await import('./erasure.js');
      if (config.store !== 'sqlite') return rotateMasterKeyOnPostgres(config, process.env.PDL_NEW_MASTER_KEY, (s) => process.stdout.write(`${s}\n`));
      return rotateMasterKey(values.get('data-dir')?.[0] ?? config.dataDir, config.masterKey, process.env.PDL_NEW_MASTER_KEY, (s) => process.stdout.write(`${s}\n`));
    }
    case 'forget': {
      const { values, positional } = options(argv.slice(1), ['tenant', 'reason', 'data-dir']);
      const tenant = values.get('tenant')?.[0];
      if (positional.length !== 1 || !tenant) throw new UsageError('usage: pdl forget <subject> --tenant <id> [--reason <text>]');
      const { forget } = await import('./erasure.js');
      const config = loadConfig();
      return forget(withDataDir(config, values), tenant, positional[0]!, values.get('reason')?.[0], (s) => process.stdout.write(`${s}\n`));
    }
    case 'rebuild': {
      const { values, positional } = options(argv.slice(1), ['data-dir']);
      if (positional.length) throw new UsageError('rebuild takes no argument besides --data-dir');
      const { rebuild } = await import('./rebuild.js');
      const config = loadConfig();
      const tty = process.stderr.isTTY;
      return rebuild(withDataDir(config, values), (s) => process.stdout.write(`${s}\n`),
        (s) => process.stderr.write(tty ? `\r${s}\x1b[K` : `${s}\n`));
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`pdl: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`pdl: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof UsageError || e instanceof NoLedger ? 2 : 1;
  },
);
