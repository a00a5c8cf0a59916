import { Module } from '@nestjs/common';
import { RetentionEnforcer } from './application/retention-enforcer.js';
import { Shredder } from './application/shredder.js';
import { GetErasureCertificateHandler } from './application/erasure-certificate.js';

@Module({ providers: [Shredder, RetentionEnforcer, GetErasureCertificateHandler], exports: [Shredder] })
export class ErasureModule {}
