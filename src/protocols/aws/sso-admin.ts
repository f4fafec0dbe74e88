// The AWS sso-admin API (awsJson1_1, target SWBExternalService.*): translation only; rules live in the domain.

import { z } from 'zod';
import type { InstanceRecord } from '../../instance/index.js';
import type { Registry } from '../../registry.js';
import { compact, epochSeconds, op, type AwsJsonService } from './operation.js';

const instanceArn = z.string().min(10).max(1224).regex(/^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/);

const describeInstance = (i: InstanceRecord) =>
  compact({
    InstanceArn: i.instanceArn,
    IdentityStoreId: i.identityStoreId,
    OwnerAccountId: i.ownerAccountId,
    Name: i.name,
    CreatedDate: epochSeconds(i.createdAt),
    Status: i.status,
  });

export function ssoAdminApi(reg: Registry): AwsJsonService {
  return {
    targetPrefix: 'SWBExternalService',
    signingNames: ['sso'],
    eventSource: 'sso.amazonaws.com',
    operations: {
      ListInstances: op(
        z.strictObject({ MaxResults: z.number().int().min(1).max(100).optional(), NextToken: z.string().min(1).max(2048).optional() }),
        async () => {
          const i = await reg.instance.get();
          return { Instances: [describeInstance(i)] };
        },
        { readOnly: true },
      ),
      DescribeInstance: op(
        z.strictObject({ InstanceArn: instanceArn }),
        async (input) => describeInstance(await reg.instance.requireArn(input.InstanceArn)),
        { readOnly: true },
      ),
      UpdateInstance: op(
        z.strictObject({
          InstanceArn: instanceArn,
          Name: z.string().min(0).max(255).regex(/^[\w+=,.@-]+$/).optional(),
          EncryptionConfiguration: z.unknown().optional(),
        }),
        async (input, ctx) => {
          await reg.instance.updateName(ctx, input.InstanceArn, input.Name ?? null);
          return {};
        },
      ),
    },
  };
}
