// The access module's entry point: permission sets, account assignments, provisioning and portal
// access (each in its own service), and the instance's access control attributes for ABAC session tags.

import { audited } from '../audit/index.js';
import type { RequestContext } from '../shared/context.js';
import { invalidArgument, notFound } from '../shared/errors.js';
import type { JobWorker } from '../shared/jobs.js';
import type { AccessDeps, AccessStores } from './access-deps.js';
import type { AccessControlAttribute } from './access-store.js';
import { AssignmentService } from './assignment-service.js';
import { PermissionSetService } from './permission-set-service.js';
import { PortalAccess } from './portal-access.js';

export interface AccessControlAttributeConfiguration {
  status: 'ENABLED';
  statusReason: string;
  attributes: AccessControlAttribute[];
}

const configurationNotFound = () =>
  notFound('access.attribute_configuration_not_found', 'The instance has no access control attribute configuration.', {
    resourceType: 'INSTANCE_ACCESS_CONTROL_ATTRIBUTE_CONFIGURATION',
  });

export class AccessService {
  readonly permissionSets: PermissionSetService;
  readonly assignments: AssignmentService;
  readonly portal: PortalAccess;

  constructor(private readonly deps: AccessDeps) {
    this.permissionSets = new PermissionSetService(deps);
    this.assignments = new AssignmentService(deps, this.permissionSets);
    this.portal = new PortalAccess(deps);
  }

  /** Register this module's background job handlers with the process's worker. */
  registerJobs(worker: JobWorker): void {
    this.assignments.registerJobs(worker);
  }

  async createAccessControlAttributes(ctx: RequestContext, input: { instanceArn: string; attributes: AccessControlAttribute[] }): Promise<void> {
    await this.changeAttributes(ctx, 'CreateInstanceAccessControlAttributeConfiguration', input, (s) =>
      s.access.insertAccessControlAttributes(input.attributes, this.deps.clock.now()),
    );
  }

  async updateAccessControlAttributes(ctx: RequestContext, input: { instanceArn: string; attributes: AccessControlAttribute[] }): Promise<void> {
    await this.changeAttributes(ctx, 'UpdateInstanceAccessControlAttributeConfiguration', input, async (s) => {
      if (!(await s.access.updateAccessControlAttributes(input.attributes, this.deps.clock.now()))) throw configurationNotFound();
    });
  }

  async deleteAccessControlAttributes(ctx: RequestContext, input: { instanceArn: string }): Promise<void> {
    await this.changeAttributes(ctx, 'DeleteInstanceAccessControlAttributeConfiguration', input, async (s) => {
      if (!(await s.access.deleteAccessControlAttributes())) throw configurationNotFound();
    });
  }

  async describeAccessControlAttributes(instanceArn: string): Promise<AccessControlAttributeConfiguration> {
    await this.deps.instance.requireArn(instanceArn);
    const attributes = await this.deps.read.access.findAccessControlAttributes();
    if (!attributes) throw configurationNotFound();
    return { status: 'ENABLED', statusReason: 'Attribute-based access control is enabled for this instance.', attributes };
  }

  private async changeAttributes(
    ctx: RequestContext,
    eventName: string,
    input: { instanceArn: string; attributes?: AccessControlAttribute[] },
    change: (s: AccessStores) => Promise<void>,
  ): Promise<void> {
    await audited(this.deps, ctx, { eventName, requestParameters: input }, async (s) => {
      await this.deps.instance.requireArn(input.instanceArn);
      const keys = new Set(input.attributes?.map((a) => a.Key));
      if (input.attributes && keys.size !== input.attributes.length) {
        throw invalidArgument('access.duplicate_attribute_key', 'Each access control attribute key may appear only once.');
      }
      await change(s);
    });
  }
}
