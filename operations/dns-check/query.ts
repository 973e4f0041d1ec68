/**
 * One DNS question to one server, the way `dig +norec` asks it: recursion not
 * desired (an authoritative server answers from its zone; a parent zone's
 * server refers), with the whole response kept: flags, TTLs, the authority
 * and additional sections that node:dns does not show. UDP first, TCP when
 * the answer was truncated. Encoding is dns-packet's.
 */
import dgram from "node:dgram";
import net from "node:net";
import { randomInt } from "node:crypto";
import * as dnsPacket from "dns-packet";

export type AskedType = "A" | "AAAA" | "CNAME" | "TXT" | "MX" | "CAA" | "NS" | "SOA";

export interface DnsRecord {
  /** Lowercase, no trailing dot. */
  name: string;
  type: string;
  ttl: number;
  /** In one canonical text form per type (canonical.ts), so answers from different vendors compare equal. */
  value: string;
}

export interface DnsResponse {
  rcode: string;
  /** The server answered from a zone it is authoritative for. */
  authoritative: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export interface AskOptions {
  /** Ask a resolver to recurse (true), or an authoritative server for its own data (false, the default). */
  recursive?: boolean;
  timeoutMs?: number;
  tries?: number;
  port?: number;
}

const lower = (name: string) => name.replace(/\.$/, "").toLowerCase();

/** An IPv6 address in its one canonical text form (RFC 5952), as URL parsing writes it. */
export const canonicalIpv6 = (address: string) => new URL(`http://[${address}]/`).hostname.slice(1, -1);

/** A record's data as text: the same form whatever the vendor, and the form lifeboat.yaml's values are brought to (canonical.ts). */
export function recordValue(answer: dnsPacket.Answer): string | undefined {
  switch (answer.type) {
    case "A":
      return answer.data;
    case "AAAA":
      return canonicalIpv6(answer.data);
    case "CNAME":
    case "NS":
      return lower(answer.data);
    case "MX":
      return `${answer.data.preference} ${lower(answer.data.exchange) || "."}`;
    case "TXT": {
      const chunks = Array.isArray(answer.data) ? answer.data : [answer.data];
      return chunks.map((c) => (Buffer.isBuffer(c) ? c.toString("utf8") : c)).join("");
    }
    case "CAA":
      return `${answer.data.flags ?? 0} ${answer.data.tag} ${answer.data.value}`;
    case "SOA":
      return `${lower(answer.data.mname)} ${lower(answer.data.rname)} ${answer.data.serial}`;
    default:
      return undefined;
  }
}

const records = (section: dnsPacket.Answer[] | undefined): DnsRecord[] =>
  (section ?? []).flatMap((a) => {
    const value = a.type === "OPT" ? undefined : recordValue(a);
    return value === undefined ? [] : [{ name: lower(a.name), type: a.type, ttl: (a as { ttl?: number }).ttl ?? 0, value }];
  });

function toResponse(packet: dnsPacket.DecodedPacket): DnsResponse {
  return {
    rcode: (packet as { rcode?: string }).rcode ?? "NOERROR",
    authoritative: packet.flag_aa,
    answers: records(packet.answers),
    authorities: records(packet.authorities),
    additionals: records(packet.additionals),
  };
}

function overUdp(server: string, port: number, query: Buffer, id: number, timeoutMs: number): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server) ? "udp6" : "udp4");
    const timer = setTimeout(() => finish(Object.assign(new Error(`no answer from ${server} within ${timeoutMs} ms`), { code: "ETIMEOUT" })), timeoutMs);
    const finish = (error?: Error, packet?: dnsPacket.DecodedPacket) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(packet!);
    };
    socket.on("error", (error) => finish(error));
    socket.on("message", (message) => {
      let packet: dnsPacket.DecodedPacket;
      try {
        packet = dnsPacket.decode(message);
      } catch {
        return; // not a DNS message: keep waiting for the answer
      }
      if (packet.id === id) finish(undefined, packet);
    });
    socket.send(query, port, server, (error) => error && finish(error));
  });
}

function overTcp(server: string, port: number, packet: dnsPacket.Packet, timeoutMs: number): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server, port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    // Settles exactly once, whatever ends the exchange: the answer, an error, the deadline, or the
    // server closing the connection early (which fires no error, and must not leave the check waiting).
    const finish = (error?: Error, answer?: dnsPacket.DecodedPacket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer!);
    };
    const timer = setTimeout(() => finish(Object.assign(new Error(`no answer from ${server} over TCP within ${timeoutMs} ms`), { code: "ETIMEOUT" })), timeoutMs);
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish(Object.assign(new Error(`${server} closed the TCP connection before answering`), { code: "ECONNRESET" })));
    socket.on("connect", () => socket.write(dnsPacket.streamEncode(packet)));
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2 || buffer.length < 2 + buffer.readUInt16BE(0)) return;
      try {
        finish(undefined, dnsPacket.streamDecode(buffer) as dnsPacket.DecodedPacket);
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}

/** Asks `server` (an address) one question; rejects with a code (ETIMEOUT, ECONNREFUSED, ...) when it does not answer. */
export async function ask(server: string, name: string, type: AskedType, options: AskOptions = {}): Promise<DnsResponse> {
  const { timeoutMs = 2_000, tries = 2, port = 53 } = options;
  const id = randomInt(0, 65_536);
  const packet: dnsPacket.Packet = {
    type: "query",
    id,
    flags: options.recursive ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type, name }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096 } as dnsPacket.Answer],
  };
  const query = dnsPacket.encode(packet);
  let lastError: unknown;
  for (let attempt = 0; attempt < tries; attempt++) {
    try {
      const answer = await overUdp(server, port, query, id, timeoutMs);
      return toResponse(answer.flag_tc ? await overTcp(server, port, packet, timeoutMs) : answer);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** Why a server did not answer, in a word: its error code, or the message. */
export const askFailure = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;
