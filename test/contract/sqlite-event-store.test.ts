import { join } from 'node:path';
import { SqliteEventStore } from '../../src/ledger/sqlite/sqlite-event-store.js';
import { openDatabase } from '../../src/common/sqlite/open-database.js';
import { tempDir } from '../support/ledger-process.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('embedded (SQLite)', async () => SqliteEventStore.inThread(openDatabase(join(tempDir(), 'ledger.db'))));
