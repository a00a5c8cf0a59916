import { Module } from '@nestjs/common';
import { AnswersModule } from '../answers/answers.module.js';
import { FindSubjectsHandler } from './application/find-subjects.js';

@Module({ imports: [AnswersModule], providers: [FindSubjectsHandler] })
export class SubjectsModule {}
