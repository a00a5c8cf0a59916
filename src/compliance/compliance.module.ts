import { Module } from '@nestjs/common';
import { ListFindingsHandler } from './application/list-findings.js';

@Module({ providers: [ListFindingsHandler] })
export class ComplianceModule {}
