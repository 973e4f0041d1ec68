/**
 * An SMS vendor with Twilio's REST API (2010-04-01): HTTP Basic with the
 * Account SID and Auth Token; `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`
 * (form-encoded To, From, Body) answers 201 with the queued message, and
 * `GET /2010-04-01/Accounts/{AccountSid}.json` the account. Wrong credentials,
 * or a vendor that dropped the platform, get Twilio's 401 (error 20003).
 */
import { randomBytes } from "node:crypto";
import { accepts, readCredentials, record, type VendorIdentity } from "./files.ts";
import { basicAuth, idempotencyKey, type ApiAnswer, type ApiRequest } from "./http.ts";

const apiVersion = "2010-04-01";

/** Twilio's error body: { code, message, more_info, status }. */
export function twilioError(status: number, code: number, message: string): ApiAnswer {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

const unauthenticated = (): ApiAnswer => ({ ...twilioError(401, 20003, "Authenticate"), headers: { "www-authenticate": 'Basic realm="Twilio API"' } });
const notFound = (path: string) => twilioError(404, 20404, `The requested resource ${path} was not found`);

/** Twilio writes dates as RFC 2822. */
const rfc2822 = (date: Date) => date.toUTCString().replace("GMT", "+0000");

function sendMessage(vendor: VendorIdentity, dir: string, account: string, request: ApiRequest): ApiAnswer {
  const to = request.params.get("To");
  const from = request.params.get("From");
  const body = request.params.get("Body");
  if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
  if (!from) return twilioError(400, 21603, "A 'From' phone number is required.");
  if (!body) return twilioError(400, 21602, "Message body is required.");
  const sid = `SM${randomBytes(16).toString("hex")}`;
  const now = new Date();
  const key = idempotencyKey(request.headers);
  record(dir, { vendor: vendor.name, at: now.toISOString(), messageId: sid, from, to: [to], body, ...(key ? { idempotencyKey: key } : {}) });
  const uri = `/${apiVersion}/Accounts/${account}/Messages/${sid}.json`;
  return {
    status: 201,
    body: {
      account_sid: account,
      api_version: apiVersion,
      body,
      date_created: rfc2822(now),
      date_sent: null,
      date_updated: rfc2822(now),
      direction: "outbound-api",
      error_code: null,
      error_message: null,
      from,
      messaging_service_sid: null,
      num_media: "0",
      num_segments: String(Math.max(1, Math.ceil(body.length / 160))),
      price: null,
      price_unit: "USD",
      sid,
      status: "queued",
      subresource_uris: { media: uri.replace(/\.json$/, "/Media.json") },
      to,
      uri,
    },
  };
}

export function twilioApi(vendor: VendorIdentity, dir: string) {
  return (request: ApiRequest): ApiAnswer => {
    const match = request.path.match(/^\/2010-04-01\/Accounts\/([^/]+?)(\/Messages)?\.json$/);
    if (!match) return notFound(request.path);
    const [, account, messages] = match;
    const credentials = basicAuth(request.headers);
    // Twilio authenticates before anything else, and the SID in the path must be the one authenticated.
    if (!credentials || !accepts(dir, credentials.username, credentials.password) || account !== credentials.username) return unauthenticated();
    if (messages && request.method === "POST") return sendMessage(vendor, dir, account!, request);
    if (!messages && request.method === "GET") {
      return { status: 200, body: { sid: account, friendly_name: `${vendor.name} (Lifeboat's local internet)`, status: "active", type: "Full", owner_account_sid: readCredentials(dir).username } };
    }
    return twilioError(405, 20004, "Method not allowed");
  };
}
