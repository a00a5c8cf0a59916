import { Module } from '@nestjs/common';
import { Authenticator } from './application/authenticator.js';
import { IssueTokenHandler } from './application/issue-token.js';
import { PutTenantHandler } from './application/put-tenant.js';
import { RevokeTokenHandler } from './application/revoke-token.js';

@Module({ providers: [PutTenantHandler, IssueTokenHandler, RevokeTokenHandler, Authenticator], exports: [Authenticator] })
export class TenancyModule {}
