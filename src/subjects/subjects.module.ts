import { Module } from '@nestjs/common';
import { FindSubjectsHandler } from './application/find-subjects.js';

@Module({ providers: [FindSubjectsHandler] })
export class SubjectsModule {}
