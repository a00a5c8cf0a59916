import { Module } from '@nestjs/common';
import { HttpApiModule } from '../http/http-api.module.js';
import { GrpcServer } from './grpc-server.js';

@Module({ imports: [HttpApiModule], providers: [GrpcServer], exports: [GrpcServer] })
export class GrpcApiModule {}
