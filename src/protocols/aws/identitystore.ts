// The AWS identitystore API (awsJson1_1, target AWSIdentityStore.*): translation only; rules live in the domain.

import { z } from 'zod';
import type { Registry } from '../../registry.js';
import { op, type AwsJsonService } from './operation.js';

export function identityStoreApi(reg: Registry): AwsJsonService {
  return {
    targetPrefix: 'AWSIdentityStore',
    signingNames: ['identitystore'],
    eventSource: 'identitystore.amazonaws.com',
    operations: {},
  };
}
