/**
 * Whether a vendor would take a message now, asked from this machine without
 * sending one: an SMTP relay answers EHLO and accepts the credentials
 * (nodemailer's verify: connect, EHLO, STARTTLS where asked, AUTH), an SMS API
 * accepts the credentials on its account endpoint. What is said back never
 * holds a credential.
 */
import nodemailer from "nodemailer";
import type { SmsVendorSettings, SmtpVendorSettings } from "./settings.ts";

export interface VendorCheck {
  ok: boolean;
  /** What the vendor answered, in a few words. */
  detail: string;
  ms: number;
}

const timeoutMs = 5_000;

export async function checkVendor(vendor: SmtpVendorSettings | SmsVendorSettings): Promise<VendorCheck> {
  const started = Date.now();
  const done = (ok: boolean, detail: string): VendorCheck => ({ ok, detail: detail.replace(/\s+/g, " ").trim().slice(0, 200), ms: Date.now() - started });
  if (vendor.kind === "smtp") {
    const transport = nodemailer.createTransport({
      host: vendor.host,
      port: vendor.port,
      secure: vendor.tls === "implicit",
      requireTLS: vendor.tls === "starttls",
      ignoreTLS: vendor.tls === "none",
      auth: { user: vendor.username, pass: vendor.password },
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
    try {
      await transport.verify();
      return done(true, `EHLO and AUTH accepted by ${vendor.host}:${vendor.port}`);
    } catch (error) {
      const e = error as { responseCode?: number; code?: string; message: string };
      return done(false, `${vendor.host}:${vendor.port}: ${e.responseCode ?? e.code ?? ""} ${e.message}`);
    } finally {
      transport.close();
    }
  }
  const base = vendor.url.replace(/\/$/, "");
  try {
    const response =
      vendor.kind === "twilio"
        ? await fetch(`${base}/2010-04-01/Accounts/${encodeURIComponent(vendor.username)}.json`, {
            headers: { authorization: `Basic ${Buffer.from(`${vendor.username}:${vendor.password}`).toString("base64")}` },
            signal: AbortSignal.timeout(timeoutMs),
          })
        : await fetch(`${base}/account/get-balance?${new URLSearchParams({ api_key: vendor.username, api_secret: vendor.password })}`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? done(true, `${vendor.kind} API at ${base} accepted the credentials`) : done(false, `${vendor.kind} API at ${base}: HTTP ${response.status} (credentials refused)`);
  } catch (error) {
    return done(false, `${vendor.kind} API at ${base}: ${(error as Error).message}`);
  }
}
