import type { AdminActor } from '../../ledger/domain/log-entry.js';
import type { Principal } from '../../tenancy/domain/roles.js';

/** How a principal is named in the log: by token id and role, never by a person's name. */
export const actorOf = (p: Principal): AdminActor =>
  p.kind === 'root' ? { type: 'admin', id: 'bootstrap' } : { type: 'token', id: p.tokenId, role: p.role };
