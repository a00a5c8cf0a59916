import { Module } from '@nestjs/common';
import { ExportEventsHandler, ListEventsHandler } from './application/list-events.js';
import { AnswersModule } from '../answers/answers.module.js';

@Module({ imports: [AnswersModule], providers: [ListEventsHandler, ExportEventsHandler] })
export class AuditTrailModule {}
