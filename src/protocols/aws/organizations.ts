// The AWS organizations API (awsJson1_1, target AWSOrganizationsV20161128.*): translation only; rules live in the domain.

import { z } from 'zod';
import type { Registry } from '../../registry.js';
import { op, type AwsJsonService } from './operation.js';

export function organizationsApi(reg: Registry): AwsJsonService {
  return {
    targetPrefix: 'AWSOrganizationsV20161128',
    signingNames: ['organizations'],
    eventSource: 'organizations.amazonaws.com',
    operations: {},
  };
}
