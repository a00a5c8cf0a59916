import { Module } from '@nestjs/common';
import { ListFindingsHandler } from './application/list-findings.js';
import { ListRetentionHandler } from './application/list-retention.js';

@Module({ providers: [ListFindingsHandler, ListRetentionHandler] })
export class ComplianceModule {}
