/**
 * Which failed commands a wait loop may ask again. Only a state that can
 * change by itself is worth waiting for (quorum not reached yet, a lock held
 * by another task, a daemon not listening yet, a file not written yet); a
 * deterministic error (a command the tool does not know, a bad option,
 * permission denied) fails the same way every time, so the loop stops at once
 * and reports that command's own error instead of timing out with a guess.
 */
import type { CommandResult } from "./ssh";

/** Whether a failed command may succeed when run again unchanged. */
export function isRetryableFailure(result: Pick<CommandResult, "code" | "stderr" | "stdout">): boolean {
  const text = `${result.stderr}\n${result.stdout}`;
  // Deterministic first: these never change by waiting, whatever else the output says.
  if (result.code === 22 || result.code === 126 || result.code === 127) return false;
  if (/\bEINVAL\b|no valid command found|invalid command|unknown option|unrecognized option|invalid option|unrecognized arguments/i.test(text)) return false;
  if (/permission denied|access denied|\bEACCES\b|\bEPERM\b|command not found|parameter verification failed/i.test(text)) return false;
  // What can change: quorum, locks, daemons coming up, files appearing.
  return /quorum|got timeout|can't lock file|lock.*timeout|connection refused|ECONNREFUSED|errno 111|timed out|ETIMEDOUT|errno 110|\bENOENT\b|errno 2\b|No such file or directory|object not found|\bEAGAIN\b|\bEBUSY\b|try again|temporarily unavailable|not (yet )?(ready|running|available)|guest-ping|ipcc_send_rec|connection reset/i.test(
    text,
  );
}
