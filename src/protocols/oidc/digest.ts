import { createHash } from 'node:crypto';

/** SHA-256 (hex): how a token, code or session id is kept and found. */
export const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');
