import { Module } from '@nestjs/common';
import { DeclareHandler } from './application/declare.js';
import { GetDeclarationHandler, ListDeclarationsHandler } from './application/get-declarations.js';

@Module({ providers: [DeclareHandler, ListDeclarationsHandler, GetDeclarationHandler] })
export class DeclarationsModule {}
