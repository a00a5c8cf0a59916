import { Module } from '@nestjs/common';
import { RecordEventsHandler } from './application/record-events.js';

@Module({ providers: [RecordEventsHandler] })
export class IngestionModule {}
