// The retry rule of the durable deliveries (callbacks, mail): a schedule of delays from the
// settings, whose last entry repeats, and a number of attempts after which a delivery has failed.

/**
 * The delay before the next attempt once `made` attempts have been made (schedule[min(made,
 * length - 1)]), or null when `made` has reached `maxAttempts`: no attempt follows.
 */
export function nextRetryMs(scheduleMs: readonly number[], made: number, maxAttempts: number): number | null {
  if (made >= maxAttempts) return null;
  return scheduleMs[Math.min(made, scheduleMs.length - 1)] ?? 0;
}
