// Tables owned by the directory domain module.

export interface DirectoryTables {}
