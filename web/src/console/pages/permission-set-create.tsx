// Create a permission set from a predefined one (an AWS managed job-function policy) or as a custom
// set (managed policies and an inline policy). If any step after the creation is refused, the new
// set is deleted again, so that nothing is half-saved, and the server's message shows at the field.

import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import RadioGroup from '@cloudscape-design/components/radio-group';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Textarea from '@cloudscape-design/components/textarea';
import { useState } from 'react';
import { aws, messageOf, type PermissionSet } from '../api.js';
import { DURATIONS, PREDEFINED } from '../permission-set-shapes.js';
import { fieldErrors } from '../parts.js';
import { useConsole } from '../shell.js';
import { permissionSetPath } from './permission-sets.js';

const FIELDS = ['Name', 'Description', 'SessionDuration', 'RelayState', 'ManagedPolicyArn', 'InlinePolicy'] as const;
type Field = (typeof FIELDS)[number];

export default function PermissionSetCreate() {
  const { instance, navigate } = useConsole();
  const [kind, setKind] = useState<'predefined' | 'custom'>('predefined');
  const [predefined, setPredefined] = useState<string>(PREDEFINED[0].name);
  const [name, setName] = useState<string>(PREDEFINED[0].name);
  const [description, setDescription] = useState('');
  const [duration, setDuration] = useState('PT1H');
  const [relayState, setRelayState] = useState('');
  const [managed, setManaged] = useState('');
  const [inline, setInline] = useState('');
  const [error, setError] = useState<{ field?: Field; message: string }>();
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    const arns = kind === 'predefined' ? [PREDEFINED.find((p) => p.name === predefined)!.arn] : managed.split(/\s+/).filter(Boolean);
    let created: PermissionSet | undefined;
    let step: Field = 'Name';
    try {
      ({ PermissionSet: created } = await aws<{ PermissionSet: PermissionSet }>('ssoAdmin', 'CreatePermissionSet', {
        InstanceArn: instance.InstanceArn,
        Name: name,
        ...(description ? { Description: description } : {}),
        SessionDuration: duration,
        ...(relayState ? { RelayState: relayState } : {}),
      }));
      step = 'ManagedPolicyArn';
      for (const ManagedPolicyArn of arns) await aws('ssoAdmin', 'AttachManagedPolicyToPermissionSet', { InstanceArn: instance.InstanceArn, PermissionSetArn: created.PermissionSetArn, ManagedPolicyArn });
      step = 'InlinePolicy';
      if (kind === 'custom' && inline.trim()) await aws('ssoAdmin', 'PutInlinePolicyToPermissionSet', { InstanceArn: instance.InstanceArn, PermissionSetArn: created.PermissionSetArn, InlinePolicy: inline });
      navigate(permissionSetPath(created.PermissionSetArn));
    } catch (err) {
      if (created) await aws('ssoAdmin', 'DeletePermissionSet', { InstanceArn: instance.InstanceArn, PermissionSetArn: created.PermissionSetArn }).catch(() => undefined);
      const named = fieldErrors(err, FIELDS);
      const field = (Object.keys(named)[0] as Field | undefined) ?? step;
      setError({ field: step === 'Name' ? field : step, message: messageOf(err) });
    } finally {
      setBusy(false);
    }
  };
  const errorOf = (f: Field) => (error?.field === f ? error.message : undefined);

  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Form
        header={<Header variant="h1">Create permission set</Header>}
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button formAction="none" variant="link" onClick={() => navigate('/permission-sets')}>
              Cancel
            </Button>
            <Button variant="primary" loading={busy}>
              Create
            </Button>
          </SpaceBetween>
        }
      >
        <SpaceBetween size="l">
          <Container header={<Header variant="h2">Permission set type</Header>}>
            <SpaceBetween size="m">
              <RadioGroup
                value={kind}
                ariaLabel="Permission set type"
                onChange={({ detail }) => setKind(detail.value as 'predefined' | 'custom')}
                items={[
                  { value: 'predefined', label: 'Predefined permission set', description: 'One AWS managed policy, for a common job function.' },
                  { value: 'custom', label: 'Custom permission set', description: 'Your choice of managed policies and an inline policy.' },
                ]}
              />
              {kind === 'predefined' && (
                <FormField label="Policy for predefined permission set">
                  <RadioGroup
                    value={predefined}
                    ariaLabel="Policy for predefined permission set"
                    onChange={({ detail }) => {
                      setPredefined(detail.value);
                      setName(detail.value);
                    }}
                    items={PREDEFINED.map((p) => ({ value: p.name, label: p.name, description: p.description }))}
                  />
                </FormField>
              )}
              {kind === 'custom' && (
                <>
                  <FormField label="AWS managed policies - optional" description="Policy ARNs, one a line." errorText={errorOf('ManagedPolicyArn')}>
                    <Textarea value={managed} onChange={({ detail }) => setManaged(detail.value)} placeholder="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" ariaLabel="AWS managed policies" />
                  </FormField>
                  <FormField label="Inline policy - optional" description="An IAM policy document (JSON)." errorText={errorOf('InlinePolicy')} stretch>
                    <Textarea value={inline} rows={12} onChange={({ detail }) => setInline(detail.value)} ariaLabel="Inline policy" spellcheck={false} />
                  </FormField>
                </>
              )}
              {kind === 'predefined' && error?.field === 'ManagedPolicyArn' && <FormField errorText={error.message} />}
            </SpaceBetween>
          </Container>
          <Container header={<Header variant="h2">Permission set details</Header>}>
            <SpaceBetween size="m">
              <FormField label="Permission set name" errorText={errorOf('Name')}>
                <Input value={name} onChange={({ detail }) => setName(detail.value)} ariaLabel="Permission set name" />
              </FormField>
              <FormField label="Description - optional" errorText={errorOf('Description')}>
                <Input value={description} onChange={({ detail }) => setDescription(detail.value)} ariaLabel="Description" />
              </FormField>
              <FormField label="Session duration" errorText={errorOf('SessionDuration')}>
                <Select selectedOption={DURATIONS.find((d) => d.value === duration) ?? null} options={DURATIONS} onChange={({ detail }) => setDuration(detail.selectedOption.value!)} ariaLabel="Session duration" />
              </FormField>
              <FormField label="Relay state - optional" description="The URL users land on in the AWS console." errorText={errorOf('RelayState')}>
                <Input value={relayState} onChange={({ detail }) => setRelayState(detail.value)} ariaLabel="Relay state" />
              </FormField>
            </SpaceBetween>
          </Container>
        </SpaceBetween>
      </Form>
    </form>
  );
}
