import { Module } from '@nestjs/common';
import { RecordEventsHandler } from './application/record-events.js';
import { ErasureModule } from '../keys/erasure.module.js';

@Module({ imports: [ErasureModule], providers: [RecordEventsHandler] })
export class IngestionModule {}
