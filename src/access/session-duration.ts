// Permission-set session durations: ISO-8601 durations between 1 and 12 hours, as AWS accepts them
// (PT1H, PT12H, PT2H30M, PT90M, PT3600S …).

import { invalidArgument } from '../shared/errors.js';

const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const MIN_SECONDS = 3600;
const MAX_SECONDS = 12 * 3600;

/** The duration in seconds, or undefined when it is not an ISO-8601 duration of days, hours, minutes and seconds. */
export function durationSeconds(duration: string): number | undefined {
  const m = ISO_DURATION.exec(duration);
  if (!m || duration === 'P' || duration.endsWith('T')) return undefined;
  const [days, hours, minutes, seconds] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  return days * 86400 + hours * 3600 + minutes * 60 + seconds;
}

export function checkSessionDuration(duration: string): string {
  const seconds = durationSeconds(duration);
  if (seconds === undefined || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    throw invalidArgument(
      'access.invalid_session_duration',
      `SessionDuration ${duration} is not valid: it must be an ISO-8601 duration from PT1H to PT12H.`,
    );
  }
  return duration;
}
