// Tables owned by the admin console grants (src/instance/console-admins.ts).

export interface ConsoleAdminsTable {
  /** The directory user's UserId; their UserName is kept for listings. */
  user_id: string;
  user_name: string;
  /** AdministratorAccess or ReadOnlyAccess. */
  policy: string;
  granted_at: number;
  /** Who granted it (the principal's userName or id). */
  granted_by: string;
}

export interface ConsoleTables {
  console_admins: ConsoleAdminsTable;
}
