/**
 * A session's terminal output, pulled from the backend over a loopback WebSocket (docs/ipc.md,
 * "Output and flow control"): the page sends an ask whenever its terminal has room and gets one
 * binary message with every byte queued for the session, so a flood costs one message per batch.
 * Each ask carries the bytes received in all (`more <n>`), so an answer lost with a dropped
 * socket comes again on the next one.
 * The socket closing with 1000 "over" means the output is over (the session ended and its last
 * bytes were taken, or the tab was closed); any other close is a dropped socket, opened again.
 */

/** The part of the browser's WebSocket this uses (a fake one in the tests). */
export interface Socket {
  binaryType: BinaryType;
  onopen: ((e: Event) => void) | null;
  onmessage: ((e: MessageEvent) => void) | null;
  onclose: ((e: CloseEvent) => void) | null;
  send(data: string): void;
}
export type OpenSocket = (url: string) => Socket;
export type Sleep = (ms: number) => Promise<void>;

/** Consecutive dropped sockets after which the loop gives up (about 15 s of backing off). */
export const MAX_FAILURES = 20;
/** The close reason the backend ends an output with (`src-tauri/src/output_socket.rs`). */
export const OVER = 'over';

const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const openWebSocket: OpenSocket = (url) => new WebSocket(url);

/**
 * Calls `onBytes` with each answer, in order, until the output is over, asking for the next only
 * once what `onBytes` returned has resolved (the terminal has room: this is the flow control).
 * Resolves `true` then, or `false` when the socket dropped MAX_FAILURES times in a row.
 */
export async function pullOutput(
  url: string, onBytes: (bytes: Uint8Array) => void | Promise<void>, open: OpenSocket = openWebSocket, wait: Sleep = sleep,
): Promise<boolean> {
  let failures = 0;
  const count = { received: 0 };
  for (;;) {
    const end = await pullUntilClosed(url, onBytes, open, count, () => { failures = 0; });
    if (end === 'over') return true;
    failures++;
    if (failures >= MAX_FAILURES) return false;
    await wait(Math.min(1000, 25 * 2 ** failures));
  }
}

/** One socket's life: asks, hands over answers, and says how it closed. */
function pullUntilClosed(
  url: string, onBytes: (bytes: Uint8Array) => void | Promise<void>, open: OpenSocket,
  count: { received: number }, answered: () => void,
): Promise<'over' | 'dropped'> {
  return new Promise((resolve) => {
    let closed = false;
    let socket: Socket;
    try {
      socket = open(url);
    } catch {
      resolve('dropped');
      return;
    }
    const ask = () => { if (!closed) socket.send(`more ${count.received}`); };
    socket.binaryType = 'arraybuffer';
    socket.onopen = ask;
    // One answer per ask, so answers never overlap; the next ask waits for the terminal.
    socket.onmessage = (e) => {
      answered();
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      count.received += bytes.byteLength;
      if (bytes.byteLength === 0) return ask();
      Promise.resolve()
        .then(() => onBytes(bytes))
        .catch((err: unknown) => console.error('terminal output', err))
        .finally(ask);
    };
    // The backend closes only in answer to an ask, so "over" comes after the last bytes were handed over.
    socket.onclose = (e) => {
      closed = true;
      resolve(e.code === 1000 && e.reason === OVER ? 'over' : 'dropped');
    };
  });
}
