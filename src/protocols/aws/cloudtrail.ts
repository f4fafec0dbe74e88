// The AWS CloudTrail API, LookupEvents only (awsJson1_1, target
// com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*, signing name cloudtrail): the audit log
// as the AWS CLI and SDKs read it. Beyond AWS, several LookupAttributes may be given; all must match.

import { z } from 'zod';
import { resourceOf, cloudTrailRecord, type AuditFilter, type StoredAuditEvent } from '../../audit/index.js';
import type { Registry } from '../../registry.js';
import { invalidArgument, type DomainError } from '../../shared/errors.js';
import type { AwsError } from './errors.js';
import { compact, epochSeconds, op, type AwsJsonService } from './operation.js';

export const CLOUDTRAIL_SOURCE = 'cloudtrail.amazonaws.com';

const ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'] as const;
type AttributeKey = (typeof ATTRIBUTE_KEYS)[number];

/** Loose on purpose where CloudTrail has its own exception for a bad value; those are checked below. */
const lookupEventsInput = z.strictObject({
  LookupAttributes: z.array(z.strictObject({ AttributeKey: z.string().max(64), AttributeValue: z.string().max(2000) })).max(16).optional(),
  StartTime: z.number().finite().optional(),
  EndTime: z.number().finite().optional(),
  EventCategory: z.string().max(64).optional(),
  MaxResults: z.number().optional(),
  NextToken: z.string().max(4096).optional(),
});

const EXCEPTIONS: Record<string, string> = {
  'cloudtrail.invalid_lookup_attributes': 'InvalidLookupAttributesException',
  'cloudtrail.invalid_max_results': 'InvalidMaxResultsException',
  'cloudtrail.invalid_event_category': 'InvalidEventCategoryException',
  'audit.invalid_time_range': 'InvalidTimeRangeException',
  'pagination.invalid_token': 'InvalidNextTokenException',
};

export function cloudTrailError(e: DomainError): AwsError | undefined {
  const type = EXCEPTIONS[e.code];
  return type ? { status: 400, type, message: e.message } : undefined;
}

const FIELD: Record<AttributeKey, keyof AuditFilter> = {
  EventId: 'eventId',
  EventName: 'eventName',
  ReadOnly: 'readOnly',
  Username: 'userName',
  ResourceType: 'resourceType',
  ResourceName: 'resourceName',
  EventSource: 'eventSource',
  AccessKeyId: 'accessKeyId',
};

/** LookupAttributes → one filter; each key at most once, values never empty. */
export function filterOf(attributes: readonly { AttributeKey: string; AttributeValue: string }[]): AuditFilter {
  const filter: AuditFilter = {};
  for (const { AttributeKey: key, AttributeValue: value } of attributes) {
    if (!(ATTRIBUTE_KEYS as readonly string[]).includes(key)) {
      throw invalidArgument('cloudtrail.invalid_lookup_attributes', `AttributeKey must be one of ${ATTRIBUTE_KEYS.join(', ')}.`);
    }
    const field = FIELD[key as AttributeKey];
    if (filter[field] !== undefined) throw invalidArgument('cloudtrail.invalid_lookup_attributes', `The AttributeKey ${key} is given more than once.`);
    if (value === '' || value.includes('\u0000')) throw invalidArgument('cloudtrail.invalid_lookup_attributes', `The AttributeValue for ${key} must not be empty.`);
    if (field === 'readOnly') {
      if (value !== 'true' && value !== 'false') throw invalidArgument('cloudtrail.invalid_lookup_attributes', 'The AttributeValue for ReadOnly must be true or false.');
      filter.readOnly = value === 'true';
    } else {
      (filter as Record<string, string>)[field] = value;
    }
  }
  return filter;
}

const MAX_TIME_MS = 8_640_000_000_000_000;
function timeOf(seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  const ms = Math.round(seconds * 1000);
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_TIME_MS) throw invalidArgument('audit.invalid_time_range', 'The time is out of range.');
  return ms;
}

export function eventOf(e: StoredAuditEvent) {
  const resource = resourceOf(e);
  return compact({
    EventId: e.eventId,
    EventName: e.eventName,
    ReadOnly: String(e.readOnly),
    AccessKeyId: e.userIdentity.accessKeyId,
    EventTime: epochSeconds(e.eventTime),
    EventSource: e.eventSource,
    Username: e.userIdentity.userName,
    Resources: resource ? [{ ResourceType: resource.type, ResourceName: resource.name }] : [],
    CloudTrailEvent: JSON.stringify(cloudTrailRecord(e)),
  });
}

export function cloudTrailApi(reg: Registry): AwsJsonService {
  return {
    targetPrefix: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
    signingNames: ['cloudtrail'],
    eventSource: CLOUDTRAIL_SOURCE,
    errorOverride: cloudTrailError,
    operations: {
      LookupEvents: op(
        lookupEventsInput,
        async (input) => {
          if (input.MaxResults !== undefined && !(Number.isInteger(input.MaxResults) && input.MaxResults >= 1 && input.MaxResults <= 50)) {
            throw invalidArgument('cloudtrail.invalid_max_results', 'MaxResults must be a whole number from 1 to 50.');
          }
          if (input.EventCategory !== undefined && input.EventCategory !== 'insight') {
            throw invalidArgument('cloudtrail.invalid_event_category', 'EventCategory must be insight.');
          }
          const filter = { ...filterOf(input.LookupAttributes ?? []), startTime: timeOf(input.StartTime), endTime: timeOf(input.EndTime) };
          // Atrium records no Insights events.
          if (input.EventCategory === 'insight') return { Events: [] };
          const page = await reg.auditTrail.lookup(filter, { maxResults: input.MaxResults, nextToken: input.NextToken });
          return compact({ Events: page.items.map(eventOf), NextToken: page.nextToken });
        },
        { readOnly: true },
      ),
    },
  };
}
