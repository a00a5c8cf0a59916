import { Module } from '@nestjs/common';
import { REQUEST_PROVIDERS } from './application/requests.js';
import { ErasureModule } from '../keys/erasure.module.js';

@Module({ imports: [ErasureModule], providers: [...REQUEST_PROVIDERS] })
export class RequestsModule {}
