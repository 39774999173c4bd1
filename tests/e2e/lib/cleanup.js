// Last-resort cleanup: whatever a test started registers a synchronous undo here, run when the
// process exits or is interrupted (the normal path undoes things itself, in after() hooks).
const handlers = new Set();
let installed = false;

function runAll() {
  for (const h of [...handlers].reverse()) {
    try { h(); } catch { /* keep going */ }
  }
  handlers.clear();
}

function install() {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { runAll(); process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[sig]); });
  }
}

/** Registers fn (synchronous) to run at exit; returns the unregister function. */
export function onExit(fn) {
  install();
  handlers.add(fn);
  return () => handlers.delete(fn);
}
