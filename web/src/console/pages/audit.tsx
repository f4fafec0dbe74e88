// Audit: the event history, searched through CloudTrail's LookupEvents (newest first, 50 a page).

import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ExpandableSection from '@cloudscape-design/components/expandable-section';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { useEffect, useState } from 'react';
import { aws, messageOf, when } from '../api.js';

interface Event {
  EventId: string;
  EventName: string;
  EventTime: number;
  EventSource: string;
  Username?: string;
  Resources: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent: string;
}

const KEYS = ['EventName', 'Username', 'ResourceName', 'ResourceType', 'EventSource', 'EventId', 'AccessKeyId', 'ReadOnly'].map((k) => ({ value: k, label: k }));

export default function Audit() {
  const [key, setKey] = useState(KEYS[0]!);
  const [value, setValue] = useState('');
  const [events, setEvents] = useState<Event[]>([]);
  const [nextToken, setNextToken] = useState<string>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [searched, setSearched] = useState<{ key: string; value: string }>();

  const search = async (more: boolean) => {
    setLoading(true);
    setError(undefined);
    // More of the same search: its filter again, with the token (the server ties a token to its filter).
    const filter = more ? searched : value.trim() ? { key: key.value, value: value.trim() } : undefined;
    try {
      const r = await aws<{ Events: Event[]; NextToken?: string }>('cloudtrail', 'LookupEvents', {
        MaxResults: 50,
        ...(filter ? { LookupAttributes: [{ AttributeKey: filter.key, AttributeValue: filter.value }] } : {}),
        ...(more && nextToken ? { NextToken: nextToken } : {}),
      });
      setEvents(more ? [...events, ...r.Events] : r.Events);
      setNextToken(r.NextToken);
      setSearched(filter);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setLoading(false);
    }
  };

  // The newest events, as soon as the page opens.
   
  useEffect(() => void search(false), []);

  return (
    <Table<Event>
      variant="full-page"
      loading={loading && events.length === 0}
      loadingText="Looking up events"
      items={events}
      trackBy="EventId"
      header={
        <Header variant="awsui-h1-sticky" description="Every change, and every refused one, newest first. Events appear once the audit sealer has chained them (within seconds).">
          Event history
        </Header>
      }
      filter={
        <form onSubmit={(e) => (e.preventDefault(), void search(false))}>
          <SpaceBetween direction="horizontal" size="xs">
            <FormField label="Lookup attribute">
              <Select selectedOption={key} options={KEYS} onChange={({ detail }) => setKey(KEYS.find((k) => k.value === detail.selectedOption.value)!)} ariaLabel="Lookup attribute" />
            </FormField>
            <FormField label="Value" errorText={error}>
              <Input value={value} onChange={({ detail }) => setValue(detail.value)} placeholder="Empty for every event" ariaLabel="Lookup value" />
            </FormField>
            <Box padding={{ top: 'l' }}>
              <Button variant="primary">Search</Button>
            </Box>
          </SpaceBetween>
        </form>
      }
      footer={
        nextToken && (
          <Box textAlign="center">
            <Button loading={loading} onClick={() => void search(true)}>
              Load more events
            </Button>
          </Box>
        )
      }
      columnDefinitions={[
        { id: 'time', header: 'Event time', cell: (e) => when(e.EventTime) },
        { id: 'name', header: 'Event name', cell: (e) => e.EventName },
        { id: 'user', header: 'User name', cell: (e) => e.Username ?? '-' },
        { id: 'source', header: 'Event source', cell: (e) => e.EventSource },
        { id: 'resource', header: 'Resource', cell: (e) => e.Resources.map((r) => `${r.ResourceType ?? ''} ${r.ResourceName ?? ''}`).join(', ') || '-' },
        {
          id: 'record',
          header: 'Record',
          cell: (e) => (
            <ExpandableSection headerText="View event" headerAriaLabel={`View event ${e.EventName} at ${when(e.EventTime)}`}>
              <pre className="code-block">{JSON.stringify(JSON.parse(e.CloudTrailEvent), null, 2)}</pre>
            </ExpandableSection>
          ),
        },
      ]}
      empty={searched === undefined && !error ? 'Search to see events.' : 'No events match.'}
    />
  );
}
