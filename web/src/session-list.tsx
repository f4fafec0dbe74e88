// The signed-in user's own portal sessions, this browser's first, each of which the user can end.
// Ending the current one signs this browser out, so the app goes to sign-in.

import Alert from '@cloudscape-design/components/alert';
import Badge from '@cloudscape-design/components/badge';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import Header from '@cloudscape-design/components/header';
import KeyValuePairs from '@cloudscape-design/components/key-value-pairs';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import { useCallback, useEffect, useRef, useState } from 'react';
import { endOwnSession, fetchOwnSessions, messageOf, SIGN_IN, type OwnSession } from './api.js';
import { strings } from './strings.js';
import { describeUserAgent } from './user-agent.js';

const s = strings.sessions;

const when = (epochSeconds: number) => new Date(epochSeconds * 1000).toLocaleString();

const clientOf = (session: OwnSession) => {
  const { browser, system } = describeUserAgent(session.userAgent);
  return s.client(browser, system, session.userAgent);
};

export function SessionList({ csrfToken }: { csrfToken: string }) {
  const [sessions, setSessions] = useState<OwnSession[]>([]);
  const [loading, setLoading] = useState(true);
  const [listFailure, setListFailure] = useState<string>();
  const [endFailure, setEndFailure] = useState<string>();
  const [ending, setEnding] = useState<string>();
  // Only the newest listing is shown: an older answer that arrives late is dropped.
  const latest = useRef(0);

  const load = useCallback(() => {
    const request = ++latest.current;
    setLoading(true);
    fetchOwnSessions().then(
      (listed) => {
        if (request !== latest.current) return;
        // This browser's session first, then the rest newest first, as the server lists them.
        setSessions(listed.sort((a, b) => Number(b.current) - Number(a.current)));
        setListFailure(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (request !== latest.current) return;
        setListFailure(messageOf(err));
        setLoading(false);
      },
    );
  }, []);
  useEffect(() => {
    load();
    return () => void latest.current++;
  }, [load]);

  const end = (session: OwnSession) => {
    setEnding(session.sessionId);
    setEndFailure(undefined);
    endOwnSession(csrfToken, session.sessionId).then(
      () => {
        if (session.current) {
          window.location.assign(SIGN_IN);
          return;
        }
        setSessions((listed) => listed.filter((other) => other.sessionId !== session.sessionId));
        setEnding(undefined);
        load();
      },
      (err: unknown) => {
        setEnding(undefined);
        setEndFailure(messageOf(err));
        load();
      },
    );
  };

  const firstLoad = loading && sessions.length === 0;
  return (
    <SpaceBetween size="l">
      <Header
        variant="h1"
        counter={firstLoad ? undefined : `(${sessions.length})`}
        description={s.description}
        actions={<Button iconName="refresh" ariaLabel={s.refresh} loading={loading} onClick={load} />}
      >
        {s.header}
      </Header>
      {listFailure && (
        <Alert type="error" header={s.failed} action={<Button onClick={load}>{strings.retry}</Button>}>
          {listFailure}
        </Alert>
      )}
      {endFailure && (
        <Alert type="error" header={s.endFailed} dismissible dismissAriaLabel={s.dismiss} onDismiss={() => setEndFailure(undefined)}>
          {endFailure}
        </Alert>
      )}
      {firstLoad && <StatusIndicator type="loading">{strings.loading}</StatusIndicator>}
      {sessions.map((session) => (
        <Container
          key={session.sessionId}
          header={
            <Header
              variant="h2"
              actions={
                <Button
                  loading={ending === session.sessionId}
                  disabled={ending !== undefined && ending !== session.sessionId}
                  ariaLabel={session.current ? s.endCurrentLabel : s.endLabel(clientOf(session), session.sourceIp, when(session.createdAt))}
                  onClick={() => end(session)}
                >
                  {s.end}
                </Button>
              }
            >
              <SpaceBetween size="xs" direction="horizontal" alignItems="center">
                <span>{clientOf(session)}</span>
                {session.current && <Badge color="blue">{s.current}</Badge>}
              </SpaceBetween>
            </Header>
          }
        >
          <KeyValuePairs
            columns={3}
            items={[
              { label: s.fields.sourceIp, value: session.sourceIp },
              { label: s.fields.createdAt, value: when(session.createdAt) },
              { label: s.fields.expiresAt, value: when(session.expiresAt) },
            ]}
          />
        </Container>
      ))}
    </SpaceBetween>
  );
}
