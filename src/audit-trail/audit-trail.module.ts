import { Module } from '@nestjs/common';
import { ListEventsHandler } from './application/list-events.js';

@Module({ providers: [ListEventsHandler] })
export class AuditTrailModule {}
