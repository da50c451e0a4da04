// The official OCPP 1.6J JSON schemas ($id urn:<Action>.req|.conf), as shipped by the maintained ocpp-rpc package.
import { createRequire } from 'node:module';

export interface OcppSchema {
  $id: string;
  $schema?: string;
  [key: string]: unknown;
}

const require = createRequire(import.meta.url);
let cached: readonly OcppSchema[] | undefined;

export function ocpp16Schemas(): readonly OcppSchema[] {
  cached ??= require('ocpp-rpc/lib/schemas/ocpp1_6.json') as OcppSchema[];
  return cached;
}
