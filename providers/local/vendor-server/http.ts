/**
 * What the SMS vendors' HTTP APIs share: the request's parameters (query
 * string, form or JSON body, as their real APIs take them), HTTP Basic
 * credentials, JSON answers, and one server per vendor on its address.
 */
import http from "node:http";
import type { VendorIdentity } from "./files.ts";

/** A request body larger than this is refused: an SMS API takes a few hundred bytes. */
const maxBodyBytes = 1024 * 1024;

export interface ApiRequest {
  method: string;
  path: string;
  params: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Api = (request: ApiRequest) => ApiAnswer;

class BodyTooLarge extends Error {}
/** A body that is not what its Content-Type says: the vendor's own "bad request". */
class MalformedBody extends Error {}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reject(new BodyTooLarge());
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** Query parameters, then the body's (form-encoded, or a JSON object of strings and numbers). */
function parameters(url: URL, contentType: string | undefined, body: Buffer): URLSearchParams {
  const params = new URLSearchParams(url.searchParams);
  const text = body.toString("utf8");
  if (!text) return params;
  if (contentType?.toLowerCase().startsWith("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new MalformedBody("the body is not valid JSON");
    }
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      for (const [key, value] of Object.entries(parsed)) if (typeof value === "string" || typeof value === "number") params.append(key, String(value));
    }
  } else {
    for (const [key, value] of new URLSearchParams(text)) params.append(key, value);
  }
  return params;
}

/** HTTP Basic credentials, when the request carries them. */
export function basicAuth(headers: http.IncomingHttpHeaders): { username: string; password: string } | undefined {
  const match = headers.authorization?.match(/^Basic\s+(\S+)$/i);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The client's idempotency key: the generic header, or Twilio's own. */
export function idempotencyKey(headers: http.IncomingHttpHeaders): string | undefined {
  const value = headers["idempotency-key"] ?? headers["i-twilio-idempotency-token"];
  return Array.isArray(value) ? value[0] : value;
}

export function startHttpApi(vendor: VendorIdentity, api: Api, badRequest: (reason: string) => ApiAnswer): http.Server {
  const server = http.createServer((request, response) => {
    const send = ({ status, body, headers }: ApiAnswer) => {
      response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      response.end(JSON.stringify(body));
    };
    const url = new URL(request.url ?? "/", `http://${vendor.host}`);
    readBody(request)
      .then((body) => send(api({ method: request.method ?? "GET", path: url.pathname, params: parameters(url, request.headers["content-type"], body), headers: request.headers })))
      .catch((error: unknown) => {
        if (response.headersSent || response.destroyed) return;
        if (error instanceof BodyTooLarge) send({ status: 413, body: { message: "request body too large" } });
        else if (error instanceof MalformedBody) send(badRequest(error.message));
        else {
          console.error(`${vendor.kind} api ${vendor.name}: ${error instanceof Error ? error.message : String(error)}`);
          send({ status: 500, body: { message: "internal error" } });
        }
      });
  });
  let listening = false;
  server.on("error", (error) => {
    console.error(`${vendor.kind} api ${vendor.name}: ${error.message}`);
    if (!listening) process.exit(1); // the supervisor tries again with backoff
  });
  server.listen(vendor.port, vendor.host, () => void (listening = true));
  return server;
}
