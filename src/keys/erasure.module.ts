import { Module } from '@nestjs/common';
import { RetentionEnforcer } from './application/retention-enforcer.js';
import { Shredder } from './application/shredder.js';

@Module({ providers: [Shredder, RetentionEnforcer], exports: [Shredder] })
export class ErasureModule {}
