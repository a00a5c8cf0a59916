import { Module } from '@nestjs/common';
import { TenancyModule } from '../../tenancy/tenancy.module.js';
import { Access } from './access.js';
import { DeclarationsController } from './declarations.controller.js';
import { EventsController } from './events.controller.js';
import { IntegrityController } from './integrity.controller.js';
import { FindingsController } from './findings.controller.js';
import { RequestsController } from './requests.controller.js';
import { SubjectsController } from './subjects.controller.js';
import { AnswersController } from './answers.controller.js';
import { OperabilityController } from './operability.controller.js';
import { TenantsController } from './tenants.controller.js';

@Module({
  imports: [TenancyModule],
  controllers: [OperabilityController, TenantsController, DeclarationsController, EventsController, IntegrityController, FindingsController, RequestsController, SubjectsController, AnswersController],
  providers: [Access],
  exports: [Access],
})
export class HttpApiModule {}
