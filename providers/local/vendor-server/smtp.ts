/**
 * A mail vendor's SMTP relay (smtp-server): AUTH PLAIN or LOGIN is required,
 * in clear text on loopback (no STARTTLS locally), with the vendor's one user
 * and password; a vendor that dropped the platform answers 535 to them, as a
 * relay answers a disabled account. A message is recorded once its DATA is
 * read, and only then answered 250: what the client saw accepted is counted.
 */
import { randomBytes } from "node:crypto";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import { accepts, isDropped, record, type VendorIdentity } from "./files.ts";
import { summarizeMessage } from "./mime.ts";

/** What a relay takes in one message: far beyond what the workload sends. */
const maxMessageBytes = 10 * 1024 * 1024;

/** An SMTP error with its reply code (smtp-server adds the enhanced status code). */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

const refused = () => smtpError(535, "Authentication credentials invalid");

function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

async function accept(vendor: VendorIdentity, dir: string, stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
  const raw = await readAll(stream);
  if (stream.sizeExceeded) throw smtpError(552, `Message exceeds the fixed maximum message size of ${maxMessageBytes} bytes`);
  const summary = summarizeMessage(raw);
  const queueId = randomBytes(6).toString("hex").toUpperCase();
  record(dir, {
    vendor: vendor.name,
    at: new Date().toISOString(),
    // A message without a Message-ID gets the relay's queue id, as relays add one.
    messageId: summary.messageId ?? `<${queueId}@${vendor.name}.vendors.test>`,
    from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
    to: session.envelope.rcptTo.map((r) => r.address),
    ...(summary.subject !== undefined ? { subject: summary.subject } : {}),
    body: summary.body,
  });
  return `Ok: queued as ${queueId}`;
}

export function startSmtpRelay(vendor: VendorIdentity, dir: string): SMTPServer {
  const server = new SMTPServer({
    name: `${vendor.name}.vendors.test`,
    banner: `${vendor.name} mail relay (Lifeboat's local internet)`,
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    size: maxMessageBytes,
    logger: false, // its protocol log would hold the AUTH lines
    onAuth(auth, _session, callback) {
      if (auth.method !== "PLAIN" && auth.method !== "LOGIN") return callback(refused());
      if (!accepts(dir, auth.username, auth.password ?? undefined)) return callback(refused());
      callback(null, { user: auth.username });
    },
    // A vendor that drops the platform ends the sessions it already let in, too.
    onMailFrom(_address, _session, callback) {
      callback(isDropped(dir) ? refused() : null);
    },
    onData(stream, session, callback) {
      accept(vendor, dir, stream, session).then(
        (reply) => callback(null, reply),
        (error: Error & { responseCode?: number }) => callback(error.responseCode ? error : smtpError(451, `Requested action aborted: ${error.message}`)),
      );
    },
  });
  let listening = false;
  server.on("error", (error) => {
    console.error(`smtp relay ${vendor.name}: ${error.message}`);
    // An address it cannot bind: exit, and the supervisor tries again with backoff.
    if (!listening) process.exit(1);
  });
  server.listen(vendor.port, vendor.host, () => void (listening = true));
  return server;
}
