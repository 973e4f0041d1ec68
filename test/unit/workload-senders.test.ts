/**
 * What a failed hand-over to a vendor is known to mean (workload/senders.ts):
 * the vendor refused or was unreachable (retry; a switch helps), the
 * recipient was refused for good (give it up), or the message went out and no
 * answer came (it may have arrived: a retry is counted as possibly twice).
 * The SMS APIs are played by a server on loopback.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryError, sendSms, smtpFailure } from "../../workload/senders.ts";

describe("an SMTP failure", () => {
  it("with the relay's answer is the relay's decision: 5xx to RCPT refuses the recipient, anything else the vendor", () => {
    expect(smtpFailure({ responseCode: 550, command: "RCPT TO", message: "No such user" }, "relay:587").kind).toBe("recipient");
    expect(smtpFailure({ responseCode: 535, command: "AUTH PLAIN", message: "Authentication failed" }, "relay:587").kind).toBe("vendor");
    expect(smtpFailure({ responseCode: 451, command: "DATA", message: "try later" }, "relay:587").kind).toBe("vendor");
  });

  it("before the message was sent is the vendor's; after it, with no answer, unknown", () => {
    expect(smtpFailure({ code: "ECONNREFUSED", command: "CONN", message: "connect ECONNREFUSED" }, "relay:587").kind).toBe("vendor");
    expect(smtpFailure({ code: "ETIMEDOUT", command: "CONN", message: "Connection timeout" }, "relay:587").kind).toBe("vendor");
    expect(smtpFailure({ code: "ETIMEDOUT", command: "DATA", message: "Timeout" }, "relay:587").kind).toBe("unknown");
    expect(smtpFailure({ code: "ECONNRESET", command: "DATA", message: "socket hang up\n  at ..." }, "relay:587").message).toBe("smtp relay:587: ECONNRESET socket hang up at ...");
  });
});

describe("an SMS API's answer", () => {
  let server: http.Server;
  let url = "";
  let answer: (response: http.ServerResponse) => void = () => undefined;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      request.resume();
      request.on("end", () => answer(response));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const json = (status: number, body: unknown) => (response: http.ServerResponse) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const message = { key: "k-1", from: "+15555550199", to: "+15555550101", body: "code 123456" };
  const twilio = () => ({ kind: "twilio" as const, url, username: "AC1", password: "secret-token" });
  const failure = async (send: Promise<string>) => (await send.then(() => undefined, (e: unknown) => e)) as DeliveryError;

  it("twilio: 201 is sent; 401 is the vendor; an invalid number is the recipient", async () => {
    answer = json(201, { sid: "SM1", status: "queued" });
    expect(await sendSms(twilio(), message)).toBe("SM1");
    answer = json(401, { code: 20003, message: "Authenticate" });
    expect((await failure(sendSms(twilio(), message))).kind).toBe("vendor");
    answer = json(400, { code: 21211, message: "Invalid 'To' Phone Number" });
    const refused = await failure(sendSms(twilio(), message));
    expect(refused.kind).toBe("recipient");
    expect(refused.message).not.toContain("secret-token");
  });

  it("vonage: status 0 is sent, 4 the vendor, 6 the recipient", async () => {
    const vonage = { kind: "vonage" as const, url, username: "key", password: "secret-key" };
    answer = json(200, { "message-count": "1", messages: [{ status: "0", "message-id": "V1" }] });
    expect(await sendSms(vonage, message)).toBe("V1");
    answer = json(200, { messages: [{ status: "4", "error-text": "Bad Credentials" }] });
    expect((await failure(sendSms(vonage, message))).kind).toBe("vendor");
    answer = json(200, { messages: [{ status: "6", "error-text": "Unroutable message" }] });
    expect((await failure(sendSms(vonage, message))).kind).toBe("recipient");
  });

  it("a refused connection is the vendor; a connection dropped after the request went out is unknown", async () => {
    // A port that was just free: nothing listens there.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect((await failure(sendSms({ ...twilio(), url: `http://127.0.0.1:${port}` }, message))).kind).toBe("vendor");
    answer = (response) => response.socket?.destroy();
    expect((await failure(sendSms(twilio(), message))).kind).toBe("unknown");
  });
});
