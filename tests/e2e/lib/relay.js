// A TCP relay of the test's own, on a lab instance's address and a free port, in front of its
// sshd: it proves a session came in through the port the user typed (it counts what it accepted).
import { connect, createServer } from 'node:net';

export class Relay {
  /** Listens on `host`:(a free port) and pipes every connection to `upstream` {host, port}. */
  static start(host, upstream) {
    const relay = new Relay();
    return new Promise((resolve, reject) => {
      relay.server = createServer((client) => {
        relay.accepted += 1;
        const server = connect(upstream);
        relay.sockets.add(client).add(server);
        const done = () => { client.destroy(); server.destroy(); };
        client.on('error', done).on('close', done);
        server.on('error', done).on('close', done);
        client.pipe(server);
        server.pipe(client);
      });
      relay.server.on('error', reject);
      relay.server.listen(0, host, () => {
        relay.port = relay.server.address().port;
        resolve(relay);
      });
    });
  }

  constructor() {
    this.accepted = 0;
    this.port = null;
    this.sockets = new Set();
  }

  /** Stops listening and drops every relayed connection. */
  close() {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
