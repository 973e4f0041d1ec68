/**
 * A local server's outbound connections to PostgreSQL, leaving from the
 * server's own loopback address.
 *
 * Why: on loopback the kernel gives every connection the source address
 * 127.0.0.1, so a primary could not tell its standby from anyone else on the
 * machine, and pg_hba could not admit only the peer as it does on the clouds.
 * libpq cannot bind a source address, so the standby's PostgreSQL connects to
 * this forwarder's Unix socket and the forwarder connects out from the
 * server's address. The primary sees the standby's address, as it would
 * between two hosts.
 *
 *   node --import tsx providers/local/egress.ts <socket dir> <host> <port> <source address>
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

/** The socket libpq finds when given host=<dir> port=<port>. */
export const egressSocket = (dir: string, port: number) => path.join(dir, `.s.PGSQL.${port}`);

export function startEgressForwarder(options: { socketDir: string; host: string; port: number; sourceAddress: string }): Promise<net.Server> {
  const socket = egressSocket(options.socketDir, options.port);
  fs.rmSync(socket, { force: true });
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: options.host, port: options.port, localAddress: options.sourceAddress });
    // No Nagle: the standby's small replies (its flush position, which a synchronous primary's commits wait
    // for) would otherwise sit out the peer's delayed ACK, about 40 ms each. PostgreSQL sets TCP_NODELAY on
    // its own sockets; this relay must not undo it.
    outbound.setNoDelay(true);
    inbound.pipe(outbound).pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on("error", close);
    outbound.on("error", close);
    inbound.on("close", close);
    outbound.on("close", close);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => {
      // Only the socket's directory (owned by the db server's user) guards it.
      fs.chmodSync(socket, 0o777);
      resolve(server);
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [socketDir, host, port, sourceAddress] = process.argv.slice(2);
  if (!socketDir || !host || !port || !sourceAddress) {
    console.error("usage: egress.ts <socket dir> <host> <port> <source address>");
    process.exit(2);
  }
  // No top-level await: the provider host loads this module as CommonJS too.
  startEgressForwarder({ socketDir, host, port: Number(port), sourceAddress }).catch((error: Error) => {
    console.error(`egress: ${error.message}`);
    process.exit(1);
  });
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGHUP", () => undefined); // nothing to reload; never drop the replication connection for it
}
