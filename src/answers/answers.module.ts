import { Module } from '@nestjs/common';
import { AccessRecorder } from './application/access-recorder.js';
import { ANSWER_PROVIDERS } from './application/answers.js';
import { GetSubjectReportHandler } from './application/subject-report.js';

@Module({ providers: [AccessRecorder, GetSubjectReportHandler, ...ANSWER_PROVIDERS], exports: [AccessRecorder] })
export class AnswersModule {}
