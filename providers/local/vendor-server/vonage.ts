/**
 * An SMS vendor with Vonage's SMS API: `POST /sms/json` (form or JSON:
 * api_key, api_secret, from, to, text) answers HTTP 200 whatever happened,
 * with a status per message ("0" accepted, "2" a parameter missing, "4" Bad
 * Credentials: wrong ones, or a vendor that dropped the platform); and
 * `GET /account/get-balance` answers the balance, or 401.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { accepts, record, vendorFiles, type VendorIdentity } from "./files.ts";
import { idempotencyKey, type ApiAnswer, type ApiRequest } from "./http.ts";

/** What each message costs, from a starting credit: the balance tells how many were sent. */
const startingBalance = 10;
const messagePrice = 0.0333;

/** One rejected message, the way Vonage answers it (HTTP 200, a non-zero status). */
export function vonageRejection(status: string, errorText: string): ApiAnswer {
  return { status: 200, body: { "message-count": "1", messages: [{ status, "error-text": errorText }] } };
}

const unauthorized = (): ApiAnswer => ({ status: 401, body: { "error-code": "401", "error-code-label": "authentication failed" } });

export function vonageApi(vendor: VendorIdentity, dir: string) {
  // Messages this vendor accepted before it (re)started still count against the credit.
  let sent = fs.existsSync(vendorFiles(dir).received) ? fs.readFileSync(vendorFiles(dir).received, "utf8").split("\n").filter(Boolean).length : 0;
  const balance = () => (startingBalance - sent * messagePrice).toFixed(8);

  function sendMessage(request: ApiRequest): ApiAnswer {
    const p = request.params;
    for (const name of ["api_key", "api_secret"]) if (!p.get(name)) return vonageRejection("2", `Missing ${name}`);
    if (!accepts(dir, p.get("api_key")!, p.get("api_secret")!)) return vonageRejection("4", "Bad Credentials");
    for (const name of ["from", "to", "text"]) if (!p.get(name)) return vonageRejection("2", `Missing ${name} param`);
    const messageId = randomBytes(8).toString("hex").toUpperCase();
    const key = idempotencyKey(request.headers);
    const clientRef = p.get("client-ref");
    record(dir, { vendor: vendor.name, at: new Date().toISOString(), messageId, from: p.get("from")!, to: [p.get("to")!], body: p.get("text")!, ...(key ? { idempotencyKey: key } : {}) });
    sent++;
    return {
      status: 200,
      body: {
        "message-count": "1",
        messages: [
          { to: p.get("to"), "message-id": messageId, status: "0", "remaining-balance": balance(), "message-price": messagePrice.toFixed(8), network: "23410", ...(clientRef ? { "client-ref": clientRef } : {}) },
        ],
      },
    };
  }

  return (request: ApiRequest): ApiAnswer => {
    if (request.path === "/sms/json" && (request.method === "POST" || request.method === "GET")) return sendMessage(request);
    if (request.path === "/account/get-balance" && request.method === "GET") {
      const p = request.params;
      return accepts(dir, p.get("api_key") ?? undefined, p.get("api_secret") ?? undefined) ? { status: 200, body: { value: Number(balance()), autoReload: false } } : unauthorized();
    }
    return { status: 404, body: { type: "https://developer.vonage.com/api-errors#not-found", title: "Not Found", detail: `${request.path} is not an endpoint of this API` } };
  };
}
