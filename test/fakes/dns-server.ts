/**
 * A small authoritative DNS server for tests, on 127.0.0.1 at a free port:
 * it answers from the records it is given (dns-packet encoding), refers to
 * delegations, and can be told to truncate over UDP so clients retry over TCP.
 */
import dgram from "node:dgram";
import net from "node:net";
import * as dnsPacket from "dns-packet";

export interface TestRecord {
  name: string;
  type: "A" | "AAAA" | "NS" | "TXT" | "MX" | "CAA" | "CNAME";
  ttl: number;
  data: unknown;
}

export interface TestDnsServer {
  port: number;
  /** Queries received, by transport. */
  queries: { udp: number; tcp: number };
  records: TestRecord[];
  /** Answer over UDP with the truncated flag and no records. */
  truncateUdp: boolean;
  /** Close TCP connections without answering (a server that drops the connection). */
  dropTcp: boolean;
  close(): Promise<void>;
}

function answer(server: TestDnsServer, query: dnsPacket.DecodedPacket, truncated: boolean): Buffer {
  const question = query.questions![0]!;
  const name = question.name.toLowerCase();
  const found = server.records.filter((r) => r.name === name && r.type === question.type);
  const delegation = server.records.filter((r) => r.type === "NS" && r.name !== name && name.endsWith(`.${r.name}`));
  const referral = found.length === 0 && delegation.length > 0;
  return dnsPacket.encode({
    type: "response",
    id: query.id,
    flags: (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | (referral ? 0 : dnsPacket.AUTHORITATIVE_ANSWER),
    questions: query.questions,
    answers: truncated ? [] : (found as dnsPacket.Answer[]),
    authorities: truncated || !referral ? [] : (delegation as dnsPacket.Answer[]),
  });
}

export async function startTestDnsServer(records: TestRecord[]): Promise<TestDnsServer> {
  const tcp = net.createServer();
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  const port = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => udp.bind(port, "127.0.0.1", resolve));
  const server: TestDnsServer = {
    port,
    queries: { udp: 0, tcp: 0 },
    records,
    truncateUdp: false,
    dropTcp: false,
    close: async () => {
      udp.close();
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
  udp.on("message", (message, from) => {
    server.queries.udp++;
    udp.send(answer(server, dnsPacket.decode(message), server.truncateUdp), from.port, from.address);
  });
  tcp.on("connection", (socket) => {
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2 || buffer.length < 2 + buffer.readUInt16BE(0)) return;
      server.queries.tcp++;
      if (server.dropTcp) return void socket.end();
      const reply = answer(server, dnsPacket.streamDecode(buffer) as dnsPacket.DecodedPacket, false);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(reply.length);
      socket.end(Buffer.concat([length, reply]));
    });
  });
  return server;
}
