// Tables owned by the access domain module.

export interface AccessTables {}
