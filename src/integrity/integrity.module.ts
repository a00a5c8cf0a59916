import { Module } from '@nestjs/common';
import { CheckpointScheduler } from './application/checkpoint-scheduler.js';
import { Checkpointer } from './application/checkpointer.js';
import { ExportLogHandler } from './application/export-log.js';
import { GetConsistencyProofHandler, GetInclusionProofHandler, GetLatestCheckpointHandler, ListSigningKeysHandler, RotateSigningKeyHandler } from './application/proofs.js';

@Module({
  providers: [Checkpointer, CheckpointScheduler, GetLatestCheckpointHandler, GetInclusionProofHandler, GetConsistencyProofHandler, ListSigningKeysHandler, RotateSigningKeyHandler, ExportLogHandler],
  exports: [Checkpointer],
})
export class IntegrityModule {}
