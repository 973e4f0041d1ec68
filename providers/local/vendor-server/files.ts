/**
 * What a local vendor keeps in its directory, shared by the server process
 * (vendor-server/main.ts) and the management API (vendors.ts): who it is, the
 * one set of credentials it accepts, whether it has dropped the platform, and
 * what it accepted.
 */
import { timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export type LocalVendorKind = "smtp" | "twilio" | "vonage";
export const localVendorKinds: readonly LocalVendorKind[] = ["smtp", "twilio", "vonage"];

/** What the server runs as: written once by ensureLocalVendors, read by the server at start. */
export interface VendorIdentity {
  name: string;
  kind: LocalVendorKind;
  host: string;
  port: number;
}

/** SMTP user and password, Twilio's Account SID and Auth Token, Vonage's api_key and api_secret. */
export interface VendorCredentials {
  kind: LocalVendorKind;
  username: string;
  password: string;
}

/** One message the vendor accepted: an SMTP message after its 250 to DATA, an SMS after the API answered success. */
export interface ReceivedMessage {
  vendor: string;
  at: string;
  messageId: string;
  from: string;
  to: string[];
  subject?: string;
  /** The SMS text; a mail's plain text, decoded, without the line break its last line ends with (SMTP cannot tell "x" from "x\n"). */
  body: string;
  /** The client's idempotency key (Idempotency-Key, or Twilio's I-Twilio-Idempotency-Token), when it sent one: duplicates show as repeated keys. */
  idempotencyKey?: string;
}

export const vendorFiles = (dir: string) => ({
  identity: path.join(dir, "vendor.json"),
  /** Mode 0600: the only copy of the secret besides what the platform was given. */
  credentials: path.join(dir, "credentials.json"),
  /** Present while the vendor refuses the platform's credentials. */
  dropped: path.join(dir, "DROPPED"),
  /** One JSON line per accepted message, in the order accepted. */
  received: path.join(dir, "received.jsonl"),
});

export function readIdentity(dir: string): VendorIdentity {
  return JSON.parse(fs.readFileSync(vendorFiles(dir).identity, "utf8")) as VendorIdentity;
}

/** Read at every authentication, so the file is the one truth (a drop or a new secret needs no restart). */
export function readCredentials(dir: string): VendorCredentials {
  return JSON.parse(fs.readFileSync(vendorFiles(dir).credentials, "utf8")) as VendorCredentials;
}

export const isDropped = (dir: string) => fs.existsSync(vendorFiles(dir).dropped);

/** Compares secrets in constant time: the vendors answer the way real ones must. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether these credentials are accepted now: the right pair, and the vendor has not dropped the platform. */
export function accepts(dir: string, username: string | undefined, password: string | undefined): boolean {
  const expected = readCredentials(dir);
  const right = sameSecret(username, expected.username) && sameSecret(password, expected.password);
  return right && !isDropped(dir);
}

/** Appends one accepted message; synchronous, so lines never interleave and the line is written before the client hears success. */
export function record(dir: string, message: ReceivedMessage): void {
  fs.appendFileSync(vendorFiles(dir).received, JSON.stringify(message) + "\n", { mode: 0o600 });
}
