// The user's accounts, searchable and paged in the browser, each expanding to its roles.

import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ExpandableSection from '@cloudscape-design/components/expandable-section';
import Header from '@cloudscape-design/components/header';
import Pagination from '@cloudscape-design/components/pagination';
import SpaceBetween from '@cloudscape-design/components/space-between';
import TextFilter from '@cloudscape-design/components/text-filter';
import { useMemo, useState } from 'react';
import type { Account } from './api.js';
import { strings } from './strings.js';

const s = strings.accounts;
const PAGE_SIZE = 20;

const matches = (account: Account, text: string) =>
  [account.accountName, account.accountId, account.emailAddress, ...account.roles].some((field) => field.toLowerCase().includes(text));

export interface AccountListProps {
  accounts: Account[];
  onOpenRole: (account: Account, roleName: string) => void;
}

export function AccountList({ accounts, onOpenRole }: AccountListProps) {
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(1);
  const shown = useMemo(() => {
    const text = filter.trim().toLowerCase();
    return text ? accounts.filter((a) => matches(a, text)) : accounts;
  }, [accounts, filter]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const current = Math.min(page, pages);

  return (
    <SpaceBetween size="l">
      <Header variant="h1" counter={`(${accounts.length})`} description={s.description}>
        {s.header}
      </Header>
      <SpaceBetween size="m" direction="horizontal" alignItems="center">
        <div className="account-filter">
          <TextFilter
          filteringText={filter}
          filteringPlaceholder={s.filterPlaceholder}
          filteringAriaLabel={s.filterLabel}
          filteringClearAriaLabel={s.clearFilter}
          countText={filter ? s.matches(shown.length) : undefined}
          onChange={({ detail }) => {
            setFilter(detail.filteringText);
            setPage(1);
            }}
          />
        </div>
        {pages > 1 && <Pagination currentPageIndex={current} pagesCount={pages} ariaLabels={s.pagination} onChange={({ detail }) => setPage(detail.currentPageIndex)} />}
      </SpaceBetween>
      {shown.length === 0 ? (
        <Box textAlign="center" color="inherit" padding="xxl">
          <Box variant="strong">{accounts.length === 0 ? s.none : s.noMatches}</Box>
          <Box variant="p" color="text-body-secondary">
            {accounts.length === 0 ? s.noneDescription : s.noMatchesDescription}
          </Box>
        </Box>
      ) : (
        shown.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE).map((account) => (
          <ExpandableSection
            key={account.accountId}
            variant="container"
            headerText={account.accountName}
            headerDescription={s.accountDescription(account.accountId, account.emailAddress)}
            headerCounter={s.roleCount(account.roles.length)}
          >
            <SpaceBetween size="s">
              {account.roles.map((roleName) => (
                <SpaceBetween key={roleName} size="m" direction="horizontal" alignItems="center">
                  <Box variant="strong">{roleName}</Box>
                  <Button variant="inline-link" ariaLabel={strings.access.openLabel(roleName, account.accountName)} onClick={() => onOpenRole(account, roleName)}>
                    {strings.access.open}
                  </Button>
                </SpaceBetween>
              ))}
            </SpaceBetween>
          </ExpandableSection>
        ))
      )}
    </SpaceBetween>
  );
}
