import { Module } from '@nestjs/common';
import { ListFindingsHandler } from './application/list-findings.js';
import { ListRetentionHandler } from './application/list-retention.js';
import { DecideHandler } from '../decisions/application/decide.js';

@Module({ providers: [ListFindingsHandler, ListRetentionHandler, DecideHandler] })
export class ComplianceModule {}
