// When a tunnelled tab warns that its EC2 Instance Connect Endpoint tunnel is about to close
// (AWS ends every tunnel after an hour at most).

/** The warning shows in a tunnel's last five minutes (the pool stops reusing it then too). */
export const WARN_BEFORE_MS = 5 * 60_000;

/** "4:05" left, or null while there is more than WARN_BEFORE_MS to go. */
export function tunnelCountdown(endsAt: number, now: number): string | null {
  const left = endsAt - now;
  if (left > WARN_BEFORE_MS) return null;
  const secs = Math.max(0, Math.ceil(left / 1000));
  return `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`;
}
