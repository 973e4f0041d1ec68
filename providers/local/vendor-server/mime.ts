/**
 * Just enough of a message's MIME to count it: the Message-ID and Subject
 * headers, and its plain-text body (the first text/plain part of a
 * multipart message), decoded from base64 or quoted-printable. What
 * nodemailer writes, not every message the world sends: anything it does
 * not understand stays as it came.
 */
export interface MessageSummary {
  messageId?: string;
  subject?: string;
  body: string;
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

/** Headers (unfolded, names lower-case, the first of each) and the body after the blank line, without the line break that ends it (it belongs to what follows: the end of DATA, or a boundary). */
function splitPart(raw: string): Part {
  const text = raw.replace(/\r\n/g, "\n");
  const end = text.indexOf("\n\n");
  const head = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? "" : text.slice(end + 2).replace(/\n$/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** A header parameter (`boundary="x"`, `charset=utf-8`). */
function parameter(header: string | undefined, name: string): string | undefined {
  const match = header?.match(new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i"));
  return match ? (match[1] ?? match[2]) : undefined;
}

function decodeQuotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  const soft = text.replace(/=\n/g, "");
  for (let i = 0; i < soft.length; i++) {
    const hex = soft[i] === "=" ? soft.slice(i + 1, i + 3) : "";
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  const bytes = encoding === "base64" ? Buffer.from(part.body.replace(/\s+/g, ""), "base64") : encoding === "quoted-printable" ? decodeQuotedPrintable(part.body) : Buffer.from(part.body, "utf8");
  const charset = (parameter(part.headers.get("content-type"), "charset") ?? "utf-8").toLowerCase();
  return bytes.toString(charset === "us-ascii" || charset === "ascii" ? "ascii" : charset === "iso-8859-1" || charset === "latin1" ? "latin1" : "utf8");
}

/** RFC 2047 encoded words (`=?UTF-8?Q?caf=C3=A9?=`), as nodemailer writes a subject that is not ASCII. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, "$1")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_word, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === "B" ? Buffer.from(text, "base64").toString("utf8") : decodeQuotedPrintable(text.replace(/_/g, " ")).toString("utf8"),
    );
}

/** The first text/plain part that is no attachment, depth first; the first such part when none is plain. */
function plainText(part: Part): string {
  const type = (part.headers.get("content-type") ?? "text/plain").toLowerCase();
  if (!type.startsWith("multipart/")) return decodeBody(part);
  const boundary = parameter(part.headers.get("content-type"), "boundary");
  if (!boundary) return part.body;
  const delimiter = `--${boundary}`;
  const parts = part.body
    .split("\n")
    .reduce<string[][]>((chunks, line) => {
      if (line.startsWith(delimiter)) chunks.push([]);
      else chunks.at(-1)?.push(line);
      return chunks;
    }, [])
    .filter((lines, i, all) => i < all.length - 1 || lines.some((l) => l.trim() !== "")) // what follows the closing delimiter
    .map((lines) => splitPart(lines.join("\n")));
  const inline = parts.filter((p) => !(p.headers.get("content-disposition") ?? "").toLowerCase().startsWith("attachment"));
  const typeOf = (p: Part) => (p.headers.get("content-type") ?? "text/plain").toLowerCase();
  const plain = inline.find((p) => typeOf(p).startsWith("text/plain")) ?? inline.find((p) => typeOf(p).startsWith("multipart/")) ?? inline[0];
  return plain ? plainText(plain) : "";
}

export function summarizeMessage(raw: Buffer): MessageSummary {
  const message = splitPart(raw.toString("utf8"));
  const subject = message.headers.get("subject");
  return {
    messageId: message.headers.get("message-id"),
    subject: subject === undefined ? undefined : decodeWords(subject),
    body: plainText(message),
  };
}
