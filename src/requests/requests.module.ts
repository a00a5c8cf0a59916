import { Module } from '@nestjs/common';
import { REQUEST_PROVIDERS } from './application/requests.js';

@Module({ providers: [...REQUEST_PROVIDERS] })
export class RequestsModule {}
