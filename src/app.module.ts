import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Logger } from 'pino';
import { GrpcApiModule } from './api/grpc/grpc-api.module.js';
import { HttpApiModule } from './api/http/http-api.module.js';
import { AuditTrailModule } from './audit-trail/audit-trail.module.js';
import { CONFIG, type PdlConfig } from './config/config.js';
import { DeclarationsModule } from './declarations/declarations.module.js';
import { IngestionModule } from './ingestion/ingestion.module.js';
import { IntegrityModule } from './integrity/integrity.module.js';
import { ComplianceModule } from './compliance/compliance.module.js';
import { RequestsModule } from './requests/requests.module.js';
import { SubjectsModule } from './subjects/subjects.module.js';
import { AnswersModule } from './answers/answers.module.js';
import type { MasterKey } from './keys/master-key.js';
import { LOGGER } from './operability/logger.js';
import { MASTER_KEY, StorageModule } from './storage/storage.module.js';
import { ROOT_TOKEN } from './tenancy/application/authenticator.js';

export interface AppSecrets {
  readonly rootToken: string;
  readonly master: MasterKey;
}

@Module({})
export class AppModule {
  static forRoot(config: PdlConfig, secrets: AppSecrets, logger: Logger): DynamicModule {
    const globals = {
      module: class GlobalsModule {},
      global: true,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: MASTER_KEY, useValue: secrets.master },
        { provide: ROOT_TOKEN, useValue: secrets.rootToken },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [CONFIG, MASTER_KEY, ROOT_TOKEN, LOGGER],
    };
    return {
      module: AppModule,
      imports: [globals, CqrsModule.forRoot(), StorageModule, DeclarationsModule, IngestionModule, AuditTrailModule, IntegrityModule, ComplianceModule, RequestsModule, SubjectsModule, AnswersModule, HttpApiModule, GrpcApiModule],
    };
  }
}
