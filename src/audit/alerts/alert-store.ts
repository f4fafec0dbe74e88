// The port the alert rules need from the store: the window a counting rule keeps, and the alerts
// fired, kept until the alert webhook takes them.

export interface FiredAlert {
  id: number;
  rule: string;
  severity: string;
  /** The chain position of the event that fired it. */
  position: number;
  /** Who or what the alert is about: the principal, or the user whose sign-ins failed. */
  subject: string;
  eventIds: string[];
  firedAt: number;
}

export interface AlertStore {
  /** Remember an event a counting rule saw (idempotent by rule and position). */
  addToWindow(rule: string, position: number, subject: string, eventId: string, eventTime: number): Promise<void>;
  /** The remembered events for a subject at or after `since`, oldest first. */
  windowOf(rule: string, subject: string, since: number): Promise<{ position: number; eventId: string }[]>;
  clearWindow(rule: string, subject: string): Promise<void>;
  pruneWindow(rule: string, before: number): Promise<void>;
  /** Record a fired alert; a second one for the same rule and position is ignored. */
  insertAlert(a: Omit<FiredAlert, 'id'>): Promise<void>;
  undeliveredAlerts(limit: number): Promise<FiredAlert[]>;
  markAlertDelivered(id: number, now: number): Promise<void>;
  alerts(): Promise<(FiredAlert & { deliveredAt: number | null })[]>;
}
