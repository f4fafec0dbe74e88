// The signed-in user's MFA devices: each one's kind, when it was added and last used; rename and
// remove here, register new ones on the server's page (QR code, security key, passkey).

import Alert from '@cloudscape-design/components/alert';
import Button from '@cloudscape-design/components/button';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { useCallback, useEffect, useRef, useState } from 'react';
import { messageOf } from '../api.js';
import { MFA_DEVICES_ITEM } from './devices-link.js';
import { fetchMfaDevices, removeMfaDevice, renameMfaDevice, type MfaDevice } from './mfa-api.js';

const s = {
  header: 'MFA devices',
  description: 'The authenticator apps, security keys and passkeys you sign in with. You can have up to 8.',
  add: 'Register a device',
  failed: 'The MFA devices could not be listed.',
  changeFailed: 'The change was refused.',
  empty: 'You have no MFA device.',
  columns: { name: 'Name', type: 'Type', createdAt: 'Added', lastUsedAt: 'Last used', actions: 'Actions' },
  kind: (d: MfaDevice) => (d.type === 'TOTP' ? 'Authenticator app' : d.passkey ? 'Passkey' : 'Security key'),
  never: 'Never',
  rename: 'Rename',
  save: 'Save',
  cancel: 'Cancel',
  remove: 'Remove',
  nameLabel: (d: MfaDevice) => `New name for ${d.name}`,
  removeLabel: (d: MfaDevice) => `Remove ${d.name}`,
  renameLabel: (d: MfaDevice) => `Rename ${d.name}`,
};

const when = (epochSeconds: number | null) => (epochSeconds === null ? s.never : new Date(epochSeconds * 1000).toLocaleString());

export function MfaDeviceList({ csrfToken }: { csrfToken: string }) {
  const [devices, setDevices] = useState<MfaDevice[]>([]);
  const [loading, setLoading] = useState(true);
  const [failure, setFailure] = useState<string>();
  const [editing, setEditing] = useState<{ deviceId: string; name: string }>();
  const [busy, setBusy] = useState<string>();
  // Only the newest answer is shown: an older one that arrives late is dropped.
  const latest = useRef(0);

  const load = useCallback(() => {
    const request = ++latest.current;
    setLoading(true);
    fetchMfaDevices().then(
      (listed) => {
        if (request !== latest.current) return;
        setDevices(listed);
        setLoading(false);
      },
      (err: unknown) => {
        if (request !== latest.current) return;
        setFailure(messageOf(err));
        setLoading(false);
      },
    );
  }, []);
  useEffect(() => {
    load();
    return () => void latest.current++;
  }, [load]);

  const change = (deviceId: string, act: () => Promise<MfaDevice[]>) => {
    const request = ++latest.current;
    setBusy(deviceId);
    setFailure(undefined);
    act().then(
      (listed) => {
        if (request === latest.current) setDevices(listed);
        setEditing(undefined);
        setBusy(undefined);
      },
      (err: unknown) => {
        setFailure(messageOf(err));
        setBusy(undefined);
      },
    );
  };

  return (
    <SpaceBetween size="l">
      {failure && (
        <Alert type="error" header={s.changeFailed} dismissible dismissAriaLabel={s.cancel} onDismiss={() => setFailure(undefined)}>
          {failure}
        </Alert>
      )}
      <Table
        loading={loading && devices.length === 0}
        items={devices}
        trackBy="deviceId"
        empty={s.empty}
        header={
          <Header variant="h1" counter={`(${devices.length})`} description={s.description} actions={<Button href={MFA_DEVICES_ITEM.href}>{s.add}</Button>}>
            {s.header}
          </Header>
        }
        columnDefinitions={[
          {
            id: 'name',
            header: s.columns.name,
            cell: (d) =>
              editing?.deviceId === d.deviceId ? (
                <Input value={editing.name} ariaLabel={s.nameLabel(d)} onChange={({ detail }) => setEditing({ deviceId: d.deviceId, name: detail.value })} />
              ) : (
                d.name
              ),
          },
          { id: 'type', header: s.columns.type, cell: (d) => s.kind(d) },
          { id: 'createdAt', header: s.columns.createdAt, cell: (d) => when(d.createdAt) },
          { id: 'lastUsedAt', header: s.columns.lastUsedAt, cell: (d) => when(d.lastUsedAt) },
          {
            id: 'actions',
            header: s.columns.actions,
            cell: (d) =>
              editing?.deviceId === d.deviceId ? (
                <SpaceBetween size="xs" direction="horizontal">
                  <Button loading={busy === d.deviceId} onClick={() => change(d.deviceId, () => renameMfaDevice(csrfToken, d.deviceId, editing.name))}>
                    {s.save}
                  </Button>
                  <Button variant="link" onClick={() => setEditing(undefined)}>
                    {s.cancel}
                  </Button>
                </SpaceBetween>
              ) : (
                <SpaceBetween size="xs" direction="horizontal">
                  <Button ariaLabel={s.renameLabel(d)} disabled={busy !== undefined} onClick={() => setEditing({ deviceId: d.deviceId, name: d.name })}>
                    {s.rename}
                  </Button>
                  <Button ariaLabel={s.removeLabel(d)} loading={busy === d.deviceId} disabled={busy !== undefined && busy !== d.deviceId} onClick={() => change(d.deviceId, () => removeMfaDevice(csrfToken, d.deviceId))}>
                    {s.remove}
                  </Button>
                </SpaceBetween>
              ),
          },
        ]}
      />
    </SpaceBetween>
  );
}
