/**
 * Handing one message to a vendor: email by SMTP (nodemailer), SMS by the
 * vendor's HTTP API in its own shape. Each message carries a key of its own,
 * the same on every attempt: the Message-ID, Vonage's client-ref, and an
 * Idempotency-Key header that APIs which honour one use (Twilio's ignores it).
 *
 * A failure says what is known of it, because that decides what happens next:
 *   - "vendor": the vendor refused or could not be reached before it had the
 *     message (connection refused, AUTH 535, HTTP 401): retry, and a switch helps;
 *   - "recipient": the vendor refused this message for good (SMTP 5xx to RCPT,
 *     an invalid number): give it up, the vendor is fine;
 *   - "unknown": the message went out and no answer came back (a timeout or
 *     reset after DATA or the POST): it may have been delivered, so a retry is
 *     counted as one that may arrive twice.
 */
import nodemailer, { type Transporter } from "nodemailer";
import type { SmsVendor, SmtpVendor } from "./services.ts";

export interface OutgoingMessage {
  key: string;
  from: string;
  to: string;
  subject?: string;
  body: string;
}

export type FailureKind = "vendor" | "recipient" | "unknown";

/** A vendor said no, or could not be reached, or did not answer; `message` is one line and holds no credential. */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message.replace(/\s+/g, " ").trim().slice(0, 400));
  }
}

const timeoutMs = 10_000;

/** SMTP commands before the message itself: a failure there means the relay never had it. */
const beforeData = new Set(["CONN", "EHLO", "HELO", "STARTTLS", "AUTH PLAIN", "AUTH LOGIN", "AUTH XOAUTH2", "AUTH CRAM-MD5", "MAIL FROM", "RCPT TO", "API"]);

export function smtpFailure(error: { responseCode?: number; code?: string; command?: string; message: string }, where: string): DeliveryError {
  const text = `smtp ${where}: ${error.responseCode ?? error.code ?? ""} ${error.message}`;
  const command = (error.command ?? "").toUpperCase();
  // The relay answered with a code: it decided. A 5xx to RCPT refuses this recipient only.
  if (error.responseCode !== undefined) return new DeliveryError(text, error.responseCode >= 500 && command === "RCPT TO" ? "recipient" : "vendor");
  if (command === "" || beforeData.has(command) || ["ECONNREFUSED", "ECONNECTION", "EAUTH", "EDNS", "ETLS"].includes(error.code ?? "")) return new DeliveryError(text, "vendor");
  return new DeliveryError(text, "unknown");
}

/**
 * One pooled connection set per vendor, kept for the process: a message costs
 * MAIL, RCPT and DATA on a session already authenticated, not a new TLS
 * handshake and AUTH (tens of messages a second instead of a few). A vendor
 * that drops the platform refuses the next message on the session too.
 */
const transports = new Map<SmtpVendor, Transporter>();
function transportFor(vendor: SmtpVendor): Transporter {
  let transport = transports.get(vendor);
  if (!transport) {
    transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 2,
      host: vendor.host,
      port: vendor.port,
      secure: vendor.tls === "implicit",
      requireTLS: vendor.tls === "starttls",
      ignoreTLS: vendor.tls === "none",
      auth: { user: vendor.username, pass: vendor.password },
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: timeoutMs,
    });
    transports.set(vendor, transport);
  }
  return transport;
}

export async function sendEmail(vendor: SmtpVendor, message: OutgoingMessage, domain: string): Promise<string> {
  try {
    const info = await transportFor(vendor).sendMail({
      from: message.from,
      to: message.to,
      subject: message.subject ?? "",
      text: message.body,
      messageId: `<${message.key}@${domain}>`,
    });
    return info.messageId;
  } catch (error) {
    throw smtpFailure(error as { responseCode?: number; code?: string; command?: string; message: string }, `${vendor.host}:${vendor.port}`);
  }
}

/** Closes the pooled connections (a stopping server). */
export function closeTransports(): void {
  for (const transport of transports.values()) transport.close();
  transports.clear();
}

/** Twilio's and Vonage's answers that refuse the recipient, not the account. */
const twilioRecipientCodes = new Set([21211, 21214, 21408, 21610, 21612, 21614]);
const vonageRecipientStatuses = new Set(["3", "6", "15"]);

export async function sendSms(vendor: SmsVendor, message: OutgoingMessage): Promise<string> {
  const base = vendor.url.replace(/\/$/, "");
  const post = async (url: string, form: Record<string, string>, headers: Record<string, string>) => {
    try {
      return await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(form), signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      // Refused or unresolvable: the request never left. Anything else (a timeout, a reset) may have reached the vendor.
      throw new DeliveryError(`${vendor.kind} ${base}: ${cause ?? ""} ${(error as Error).message}`, cause === "ECONNREFUSED" || cause === "ENOTFOUND" || cause === "EAI_AGAIN" ? "vendor" : "unknown");
    }
  };
  if (vendor.kind === "twilio") {
    const auth = Buffer.from(`${vendor.username}:${vendor.password}`).toString("base64");
    const response = await post(`${base}/2010-04-01/Accounts/${encodeURIComponent(vendor.username)}/Messages.json`, { To: message.to, From: message.from, Body: message.body }, { authorization: `Basic ${auth}`, "idempotency-key": message.key });
    const answer = (await response.json().catch(() => ({}))) as { sid?: string; message?: string; code?: number };
    if (response.status === 201 && answer.sid) return answer.sid;
    throw new DeliveryError(`twilio ${base}: HTTP ${response.status}${answer.code ? ` code ${answer.code}` : ""} ${answer.message ?? ""}`, answer.code !== undefined && twilioRecipientCodes.has(answer.code) ? "recipient" : "vendor");
  }
  const response = await post(`${base}/sms/json`, { api_key: vendor.username, api_secret: vendor.password, from: message.from, to: message.to, text: message.body, "client-ref": message.key }, {});
  const answer = (await response.json().catch(() => ({}))) as { messages?: Array<{ status?: string; "message-id"?: string; "error-text"?: string }> };
  const first = answer.messages?.[0];
  if (response.ok && first?.status === "0" && first["message-id"]) return first["message-id"];
  throw new DeliveryError(`vonage ${base}: HTTP ${response.status} status ${first?.status ?? "?"} ${first?.["error-text"] ?? ""}`, first?.status !== undefined && vonageRecipientStatuses.has(first.status) ? "recipient" : "vendor");
}
