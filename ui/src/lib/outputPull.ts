/**
 * A session's terminal output, pulled from the backend (docs/ipc.md, "Output and flow control"):
 * each answer carries every byte queued for the session, so a flood costs one request per batch.
 * 200: bytes; 204: nothing within the backend's wait, ask again; 404: the output is over (the
 * session ended and its last bytes were taken, or the tab was closed).
 */
export type Fetch = (url: string) => Promise<Response>;
export type Sleep = (ms: number) => Promise<void>;

/** Consecutive failed requests after which the loop gives up (about 15 s of backing off). */
export const MAX_FAILURES = 20;

const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `onBytes` with each answer, in order, until the output is over, asking for the next only
 * once what `onBytes` returned has resolved (the terminal has room: this is the flow control).
 * Resolves `true` then, or `false` when the backend could not be reached MAX_FAILURES times in a row.
 */
export async function pullOutput(
  url: string, onBytes: (bytes: Uint8Array) => void | Promise<void>, fetchFn: Fetch = fetch, wait: Sleep = sleep,
): Promise<boolean> {
  let failures = 0;
  for (;;) {
    let status: number;
    try {
      const response = await fetchFn(url);
      status = response.status;
      if (status === 200) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (bytes.byteLength > 0) await onBytes(bytes);
      }
    } catch {
      status = 0;
    }
    if (status === 404) return true;
    if (status === 200 || status === 204) {
      failures = 0;
      continue;
    }
    failures++;
    if (failures >= MAX_FAILURES) return false;
    await wait(Math.min(1000, 25 * 2 ** failures));
  }
}
