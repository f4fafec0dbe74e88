// Tables owned by the organization domain module.

export interface OrganizationTables {}
