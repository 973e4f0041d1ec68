/**
 * Handing one message to a vendor: email by SMTP (nodemailer), SMS by the
 * vendor's HTTP API in its own shape. Each message carries a key of its own
 * (the Message-ID, Vonage's client-ref, an Idempotency-Key header), the same
 * on every attempt, so a receiver can tell a resend from a new message.
 */
import nodemailer from "nodemailer";
import type { SmsVendor, SmtpVendor } from "./services.ts";

export interface OutgoingMessage {
  key: string;
  from: string;
  to: string;
  subject?: string;
  body: string;
}

/** A vendor said no, or could not be reached; `message` says which, with no credential in it. */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
}

const timeoutMs = 10_000;

export async function sendEmail(vendor: SmtpVendor, message: OutgoingMessage, domain: string): Promise<string> {
  // One connection per message: a vendor that drops us is seen at the next message, not after a pooled session ends.
  const transport = nodemailer.createTransport({
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
  try {
    const info = await transport.sendMail({
      from: message.from,
      to: message.to,
      subject: message.subject ?? "",
      text: message.body,
      messageId: `<${message.key}@${domain}>`,
    });
    return info.messageId;
  } catch (error) {
    const e = error as { responseCode?: number; code?: string; message: string };
    throw new DeliveryError(`smtp ${vendor.host}:${vendor.port}: ${e.responseCode ?? e.code ?? ""} ${e.message}`.replace(/\s+/g, " ").trim());
  } finally {
    transport.close();
  }
}

export async function sendSms(vendor: SmsVendor, message: OutgoingMessage): Promise<string> {
  const base = vendor.url.replace(/\/$/, "");
  const post = async (url: string, form: Record<string, string>, headers: Record<string, string>) => {
    try {
      return await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(form), signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new DeliveryError(`${vendor.kind} ${base}: ${(error as Error).message}`);
    }
  };
  if (vendor.kind === "twilio") {
    const auth = Buffer.from(`${vendor.username}:${vendor.password}`).toString("base64");
    const response = await post(`${base}/2010-04-01/Accounts/${encodeURIComponent(vendor.username)}/Messages.json`, { To: message.to, From: message.from, Body: message.body }, { authorization: `Basic ${auth}`, "idempotency-key": message.key });
    const answer = (await response.json().catch(() => ({}))) as { sid?: string; message?: string; code?: number };
    if (response.status !== 201 || !answer.sid) throw new DeliveryError(`twilio ${base}: HTTP ${response.status}${answer.code ? ` code ${answer.code}` : ""} ${answer.message ?? ""}`.trim());
    return answer.sid;
  }
  const response = await post(`${base}/sms/json`, { api_key: vendor.username, api_secret: vendor.password, from: message.from, to: message.to, text: message.body, "client-ref": message.key }, {});
  const answer = (await response.json().catch(() => ({}))) as { messages?: Array<{ status?: string; "message-id"?: string; "error-text"?: string }> };
  const first = answer.messages?.[0];
  if (!response.ok || first?.status !== "0" || !first["message-id"]) throw new DeliveryError(`vonage ${base}: HTTP ${response.status} status ${first?.status ?? "?"} ${first?.["error-text"] ?? ""}`.trim());
  return first["message-id"];
}
