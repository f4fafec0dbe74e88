// NextToken pagination for the access lists: the token carries the keyset position of the last
// row returned, checked against the list's key shape so that a forged token is a clean 400. The
// mechanism is shared (auth's session list pages the same way); this module keeps access's imports.

export { pageThrough, type PageRequest } from '../shared/pagination.js';
