import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import type { DomainError } from '../../common/kernel/domain-error.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { LOGGER } from '../../operability/logger.js';
import { EVENT_STORE } from '../../storage/storage.tokens.js';
import { MERKLE_TREE, type MerkleTreeReader } from '../integrity.ports.js';

const PAGE = 1000;

/**
 * The tenant's log as NDJSON: for each position in [from, to), exactly the bytes that were hashed, then
 * a newline. Each entry is checked against its stored leaf hash on the way out; at the first that
 * differs (the store was altered) the export stops there, so a verifier names that position.
 */
export class ExportLog extends Query<Either<DomainError, { from: number; to: number; lines: AsyncIterable<Buffer> }>> {
  constructor(readonly tenant: string, readonly from: number | undefined, readonly to: number | undefined) { super(); }
}

@QueryHandler(ExportLog)
export class ExportLogHandler implements IQueryHandler<ExportLog> {
  constructor(@Inject(EVENT_STORE) private readonly events: EventStore, @Inject(MERKLE_TREE) private readonly tree: MerkleTreeReader, @Inject(LOGGER) private readonly log: Logger) {}

  async execute({ tenant, from, to }: ExportLog) {
    const stream = tenantStream(tenant);
    const size = await this.tree.treeSize(stream);
    const start = from ?? 0;
    const end = to ?? size;
    if (end > size) return left({ _tag: 'TreeSizeOutOfRange', detail: `The log has ${size} entries; it cannot be exported up to ${end}.` } as const);
    if (start > end) return left({ _tag: 'TreeSizeOutOfRange', detail: `from (${start}) must not be larger than to (${end}).` } as const);
    return right({ from: start, to: end, lines: this.lines(tenant, stream, start, end) });
  }

  private async *lines(tenant: string, stream: string, from: number, to: number): AsyncGenerator<Buffer> {
    const newline = Buffer.from('\n');
    for (let next = from; next < to;) {
      const page = await this.events.readStream(stream, next, Math.min(PAGE, to - next));
      if (page.length === 0) return;
      const chunk: Buffer[] = [];
      const leaves = await this.tree.leafHashes(stream, page[0]!.revision, page.length);
      for (const [i, e] of page.entries()) {
        const stored = e.revision === page[0]!.revision + i ? leaves[i] : undefined;
        if (!stored || !stored.equals(leafHash(e.data))) {
          this.log.error({ tenant, position: e.revision }, 'integrity: a stored entry differs from its leaf hash; the export stops before it');
          if (chunk.length) yield Buffer.concat(chunk);
          return;
        }
        chunk.push(e.data, newline);
      }
      yield Buffer.concat(chunk);
      next = page[page.length - 1]!.revision + 1;
    }
  }
}
