// What a console address that names nothing shows: a page that is not there, or an id no user,
// group or permission set has (a malformed one too). Small, and in the frame's chunk.

import Alert from '@cloudscape-design/components/alert';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import { AwsError } from './api.js';
import { followLink, useConsole } from './shell.js';

/** A refusal that means "no such thing": not found, or an id that is not even in the id's form. */
export const isMissing = (err: unknown) => err instanceof AwsError && (err.status === 404 || err.type === 'ValidationException');

export function NotFound({ message, back }: { message: string; back: { to: string; text: string } }) {
  const { navigate } = useConsole();
  return (
    <Alert type="error" header="Not found">
      <SpaceBetween size="xs">
        <span>{message}</span>
        <Link href={`/console${back.to === '/' ? '' : back.to}`} onFollow={followLink(navigate, back.to)}>
          {back.text}
        </Link>
      </SpaceBetween>
    </Alert>
  );
}
