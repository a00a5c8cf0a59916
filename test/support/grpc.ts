import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { join } from 'node:path';
import type { anEvent } from './builders.js';
import { ROOT } from './ledger-process.js';

/** The `pdl.v1.Ledger` client class, loaded from the project's own proto files. */
export function ledgerService(): grpc.ServiceClientConstructor {
  const proto = join(ROOT, 'proto');
  const def = loader.loadSync(join(proto, 'pdl/v1/ledger.proto'), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [proto] });
  return (grpc.loadPackageDefinition(def) as any).pdl.v1.Ledger;
}

/** Metadata carrying a bearer token, as clients send it. */
export const auth = (token: string) => { const m = new grpc.Metadata(); m.set('authorization', `Bearer ${token}`); return m; };

/** An event of the HTTP API as a gRPC message, its details as a JSON string. */
export const toProto = (e: ReturnType<typeof anEvent>) => { const { details, ...rest } = e; return { ...rest, detailsJson: JSON.stringify(details) }; };
