import { describe, expect, it } from 'vitest';
import { CredentialService } from './credential-service.js';

describe('CredentialService.requireRegion', () => {
  // Only the instance's region is read: the rest of the service's dependencies are not reached.
  const service = (region: string | undefined) => new CredentialService({ instanceRegion: () => Promise.resolve(region) } as unknown as ConstructorParameters<typeof CredentialService>[0]);

  it("takes signatures for the instance's region, and for us-east-1 only on AWS's global services", async () => {
    const inIreland = service('eu-west-1');
    await expect(inIreland.requireRegion({ region: 'eu-west-1', service: 'sso' })).resolves.toBeUndefined();
    await expect(inIreland.requireRegion({ region: 'us-east-1', service: 'sso' })).rejects.toMatchObject({ code: 'auth.bad_scope', message: expect.stringContaining('eu-west-1') as unknown });
    await expect(inIreland.requireRegion({ region: 'x', service: 'identitystore' })).rejects.toMatchObject({ code: 'auth.bad_scope' });
    for (const global of ['iam', 'organizations', 'sts']) await expect(inIreland.requireRegion({ region: 'us-east-1', service: global })).resolves.toBeUndefined();
    await expect(inIreland.requireRegion({ region: 'us-west-2', service: 'sts' })).rejects.toMatchObject({ code: 'auth.bad_scope' });
  });

  it('checks nothing before `atrium init` has made an instance', async () => {
    await expect(service(undefined).requireRegion({ region: 'ap-south-1', service: 'sso' })).resolves.toBeUndefined();
  });
});
