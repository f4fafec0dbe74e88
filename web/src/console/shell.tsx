// What every console page shares: the instance, who is signed in and what their grant allows, and
// navigation between the console's paths (each page has its own, so a link or a reload keeps it).

import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import type { Instance } from './api.js';

export interface ConsoleState {
  instance: Instance;
  userName: string;
  /** AdministratorAccess or ReadOnlyAccess. */
  policy: string;
  /** False under ReadOnlyAccess: the pages offer no change the server would refuse. */
  canWrite: boolean;
  navigate: (path: string) => void;
  /**
   * The overview (instance and counts) the frame loaded, once, for the page at `path` when that is
   * the page the console opened on: its first page then does not ask for it again. Undefined after.
   */
  takeOverview: (path: string) => Instance | undefined;
}

export const ConsoleContext = createContext<ConsoleState | undefined>(undefined);

export function useConsole(): ConsoleState {
  const state = useContext(ConsoleContext);
  if (!state) throw new Error('useConsole outside the console');
  return state;
}

export const BASE = '/console';

/** The address bar's path under /console, following back and forward. */
export function usePath(): [string, (path: string) => void] {
  const read = () => window.location.pathname.replace(/^\/console/, '').replace(/\/+$/, '') + window.location.search || '/';
  const [path, setPath] = useState(read);
  useEffect(() => {
    const follow = () => setPath(read());
    window.addEventListener('popstate', follow);
    return () => window.removeEventListener('popstate', follow);
  }, []);
  const navigate = useCallback((next: string) => {
    window.history.pushState(null, '', BASE + (next === '/' ? '' : next));
    setPath(next);
    window.scrollTo(0, 0);
  }, []);
  return [path, navigate];
}

/** A link that moves inside the console without reloading. */
export function followLink(navigate: (path: string) => void, path: string) {
  return (event: CustomEvent<{ external?: boolean }> | { preventDefault(): void }) => {
    event.preventDefault();
    navigate(path);
  };
}
