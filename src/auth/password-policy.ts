// Password rules: the instance's policy (length, character classes, the bundled list of common
// passwords) and generation of one-time passwords that meet it.

import type { PasswordPolicy } from '../instance/index.js';
import { invalidArgument } from '../shared/errors.js';
import type { IdGenerator } from '../shared/ids.js';
import { COMMON_PASSWORD_BASES } from './common-passwords.js';

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';
const SYMBOLS = '!@#$%^&*()-_=+[]{}:,.?';
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };

const refuse = (message: string) => invalidArgument('auth.password_policy', message);

/** The word under a password: lower case, without leading or trailing digits and symbols, l33t undone. */
function basesOf(password: string): string[] {
  const core = password.toLowerCase().replace(/^[^a-z@$]+|[^a-z]+$/g, '');
  const plain = core.replace(/[013457@$!]/g, (c) => LEET[c] ?? c);
  return [password.toLowerCase(), core, plain, plain.replace(/i/g, 'l'), plain.replace(/[^a-z]/g, '')];
}

export function isCommonPassword(password: string): boolean {
  return basesOf(password).some((b) => COMMON_PASSWORD_BASES.has(b));
}

/** Refuse a password the policy does not allow; the message says which rule it breaks. */
export function checkPassword(policy: PasswordPolicy, password: string): void {
  const length = [...password].length;
  if (length < policy.minLength || length > policy.maxLength) {
    throw refuse(`The password must be ${policy.minLength} to ${policy.maxLength} characters long.`);
  }
  // No browser's password field can send a line break or a tab: such a password (a second newline
  // on the CLI's stdin) could never be typed at sign-in.
  if (/\p{Cc}/u.test(password)) throw refuse('The password must not contain control characters, such as line breaks or tabs.');
  if (policy.requireUppercase && !/\p{Lu}/u.test(password)) throw refuse('The password must contain an upper-case letter.');
  if (policy.requireLowercase && !/\p{Ll}/u.test(password)) throw refuse('The password must contain a lower-case letter.');
  if (policy.requireDigit && !/\p{Nd}/u.test(password)) throw refuse('The password must contain a digit.');
  if (policy.requireSymbol && !/[^\p{L}\p{Nd}\s]/u.test(password)) throw refuse('The password must contain a symbol.');
  if (policy.rejectCommon && isCommonPassword(password)) throw refuse('The password is too common; choose another.');
}

/** A random password of every character class, unbiased (rejection sampling), that the policy allows. */
export function generatePassword(policy: PasswordPolicy, ids: IdGenerator): string {
  const length = Math.min(Math.max(20, policy.minLength), policy.maxLength);
  const pick = (alphabet: string): string => {
    for (;;) {
      const b = ids.bytes(1)[0]!;
      if (b < 256 - (256 % alphabet.length)) return alphabet[b % alphabet.length]!;
    }
  };
  const all = UPPER + LOWER + DIGITS + SYMBOLS;
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(all));
  // Shuffle, so that the guaranteed classes are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = ids.bytes(1)[0]! % (i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
