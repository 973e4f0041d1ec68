/**
 * The local internet's vendors as real processes on loopback: two SMTP relays
 * (smtp-server) that nodemailer sends through, and two SMS APIs in Twilio's
 * and Vonage's shapes. What each accepted is counted; wrong credentials and a
 * vendor that dropped the platform are refused the way the real ones refuse
 * them. No machine lock: the vendors take addresses no other home holds, so
 * this file runs beside a drill.
 */
import fs from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import nodemailer, { type Transporter } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  dropLocalVendor,
  ensureLocalVendors,
  localVendorEndpoint,
  localVendorNetwork,
  localVendors,
  receivedMessages,
  removeLocalVendor,
  removeLocalVendors,
  restoreLocalVendor,
  vendorsDir,
  type LocalVendorEndpoint,
  type LocalVendorKind,
} from "../../providers/local/vendors.ts";
import { isAlive, portOpen, readStatus, stopServer, supervisorPid } from "../../providers/local/process.ts";
import { poll } from "../../model/poll.ts";

const wanted: Array<{ name: string; kind: LocalVendorKind }> = [
  { name: "mail-e", kind: "smtp" },
  { name: "mail-f", kind: "smtp" },
  { name: "sms-t", kind: "twilio" },
  { name: "sms-v", kind: "vonage" },
];

const homes: string[] = [];
let home: string;
let endpoints: Record<string, LocalVendorEndpoint>;
const serverDir = (name: string) => path.join(vendorsDir(home), name);

async function scratchHome(): Promise<string> {
  const created = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-vendors-"));
  homes.push(created);
  return created;
}

beforeAll(async () => {
  home = await scratchHome();
  endpoints = Object.fromEntries((await ensureLocalVendors(home, wanted)).map((e) => [e.name, e]));
}, 60_000);

afterAll(async () => {
  for (const created of homes) {
    await removeLocalVendors(created);
    await fs.rm(created, { recursive: true, force: true });
  }
}, 60_000);

const mailer = (endpoint: LocalVendorEndpoint, pass = endpoint.password) =>
  nodemailer.createTransport({ host: endpoint.host, port: endpoint.port, secure: false, auth: { user: endpoint.username, pass }, ignoreTLS: true });

/** What nodemailer's verify() answered: true, or the SMTP reply code it failed with. */
const verify = (transport: Transporter) => transport.verify().then(
  () => true,
  (error: { responseCode?: number }) => error.responseCode,
);

const basic = (user: string, password: string) => "Basic " + Buffer.from(`${user}:${password}`).toString("base64");

async function twilioSend(endpoint: LocalVendorEndpoint, form: Record<string, string>, options: { password?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${endpoint.url}/2010-04-01/Accounts/${endpoint.username}/Messages.json`, {
    method: "POST",
    headers: { authorization: basic(endpoint.username, options.password ?? endpoint.password), ...options.headers },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function vonageSend(endpoint: LocalVendorEndpoint, params: Record<string, string>, json = false) {
  const body = { api_key: endpoint.username, api_secret: endpoint.password, ...params };
  const response = await fetch(`${endpoint.url}/sms/json`, json ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : { method: "POST", body: new URLSearchParams(body) });
  return { status: response.status, body: (await response.json()) as { "message-count": string; messages: Array<Record<string, string>> } };
}

describe("ensureLocalVendors", () => {
  it("gives each vendor its own address on the local internet, its kind's port, and credentials of its kind's shape", () => {
    const hosts = Object.values(endpoints).map((e) => e.host);
    expect(new Set(hosts).size).toBe(4);
    for (const host of hosts) expect(host.startsWith(`${localVendorNetwork}.`)).toBe(true);
    expect(endpoints["mail-e"]).toMatchObject({ kind: "smtp", port: 2525, tls: "none" });
    expect(endpoints["mail-e"]!.url).toBeUndefined();
    expect(endpoints["sms-t"]).toMatchObject({ kind: "twilio", port: 8080, url: `http://${endpoints["sms-t"]!.host}:8080` });
    expect(endpoints["sms-t"]!.username).toMatch(/^AC[0-9a-f]{32}$/);
    expect(endpoints["sms-t"]!.password).toMatch(/^[0-9a-f]{32}$/);
    expect(endpoints["sms-v"]!.username).toMatch(/^[0-9a-f]{8}$/);
    expect(endpoints["sms-v"]!.password).toMatch(/^[0-9a-f]{16}$/);
    expect(endpoints["mail-e"]!.password).not.toBe(endpoints["mail-f"]!.password);
  });

  it("is idempotent: a second call restarts nothing, says nothing, and returns the same endpoints and credentials", async () => {
    const pids = wanted.map((w) => supervisorPid(serverDir(w.name)));
    expect(pids.every((pid) => pid !== undefined)).toBe(true);
    const stdout = vi.spyOn(process.stdout, "write");
    const stderr = vi.spyOn(process.stderr, "write");
    try {
      const again = await ensureLocalVendors(home, wanted);
      expect(Object.fromEntries(again.map((e) => [e.name, e]))).toEqual(endpoints);
      expect(stdout).not.toHaveBeenCalled();
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(wanted.map((w) => supervisorPid(serverDir(w.name)))).toEqual(pids);
    expect(await localVendorEndpoint(home, "mail-e")).toEqual(endpoints["mail-e"]);
    expect(await localVendorEndpoint(home, "mail-x")).toBeUndefined();
    expect(await localVendors(home)).toEqual([...wanted].sort((a, b) => a.name.localeCompare(b.name)));
  });

  it("keeps a vendor's address and credentials when its server is started again after it died", async () => {
    await stopServer(serverDir("mail-f"));
    expect(await portOpen(endpoints["mail-f"]!.host, 2525)).toBe(false);
    const [restarted] = await ensureLocalVendors(home, [{ name: "mail-f", kind: "smtp" }]);
    expect(restarted).toEqual(endpoints["mail-f"]);
    expect(await verify(mailer(restarted!))).toBe(true);
  });

  it("takes back an address its own server still holds after its supervisor was killed (SIGKILL), with the same credentials", async () => {
    const dir = serverDir("mail-f");
    const orphan = readStatus(dir)!.processes.smtp!.pid;
    process.kill(supervisorPid(dir)!, "SIGKILL");
    await poll({ what: "the supervisor to die", probe: async () => supervisorPid(dir), done: (pid) => pid === undefined, timeoutMs: 5_000, intervalMs: 20 });
    expect(await portOpen(endpoints["mail-f"]!.host, 2525)).toBe(true); // the relay outlived it
    const [restarted] = await ensureLocalVendors(home, [{ name: "mail-f", kind: "smtp" }]);
    expect(restarted).toEqual(endpoints["mail-f"]);
    expect(isAlive(orphan)).toBe(false);
    expect(readStatus(dir)!.processes.smtp!.pid).not.toBe(orphan);
    expect(await verify(mailer(restarted!))).toBe(true);
  });

  it("never gives another home's vendor an address this home's vendors hold", async () => {
    const other = await scratchHome();
    const [theirs] = await ensureLocalVendors(other, [{ name: "mail-e", kind: "smtp" }]);
    expect(Object.values(endpoints).map((e) => e.host)).not.toContain(theirs!.host);
    expect(theirs!.password).not.toBe(endpoints["mail-e"]!.password);
    // Removing theirs leaves ours running.
    await removeLocalVendor(other, "mail-e");
    expect(await portOpen(theirs!.host, 2525)).toBe(false);
    expect(await localVendors(other)).toEqual([]);
    expect(await verify(mailer(endpoints["mail-e"]!))).toBe(true);
  });

  it("keeps the secrets in the credentials file alone (0600): not in the definitions, the logs or any process's command line", async () => {
    for (const { name } of wanted) {
      const dir = serverDir(name);
      expect((await fs.stat(path.join(dir, "credentials.json"))).mode & 0o777).toBe(0o600);
      const files = (await fs.readdir(dir, { recursive: true })).map(String).filter((f) => f !== "credentials.json");
      const texts = await Promise.all(files.map((f) => fs.readFile(path.join(dir, f), "utf8").catch(() => "")));
      const pids = [supervisorPid(dir)!, ...Object.values(readStatus(dir)?.processes ?? {}).map((p) => p.pid)];
      const commandLines = pids.map((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8"));
      for (const text of [...texts, ...commandLines]) expect(text).not.toContain(endpoints[name]!.password);
    }
  });

  it("refuses a name that cannot name a directory, and a kind it does not run, starting nothing", async () => {
    const other = await scratchHome();
    await expect(ensureLocalVendors(other, [{ name: "../mail", kind: "smtp" }])).rejects.toThrow('local vendor "../mail": a name is lower-case letters, digits and inner hyphens');
    await expect(ensureLocalVendors(other, [{ name: "mail-g", kind: "sendgrid" as LocalVendorKind }])).rejects.toThrow('local vendor mail-g: kind "sendgrid" is not one the local internet runs; accepted: smtp, twilio, vonage');
    expect(await localVendors(other)).toEqual([]);
  });
});

describe("the SMTP relays", () => {
  it("take a message from nodemailer and count it once, with its Message-ID, envelope, subject and text", async () => {
    const transport = mailer(endpoints["mail-e"]!);
    expect(await verify(transport)).toBe(true);
    const before = (await receivedMessages(home, "mail-e")).length;
    const info = await transport.sendMail({ from: "noreply@social.test", to: ["ada@example.test", "bob@example.test"], subject: "Votre code: 4217 ✓", text: "Bonjour,\nvotre code est 4217." });
    expect(info.response).toMatch(/^250 /);
    const received = (await receivedMessages(home, "mail-e")).slice(before);
    expect(received).toEqual([
      {
        vendor: "mail-e",
        at: expect.any(String),
        messageId: info.messageId,
        from: "noreply@social.test",
        to: ["ada@example.test", "bob@example.test"],
        subject: "Votre code: 4217 ✓",
        body: "Bonjour,\nvotre code est 4217.",
      },
    ]);
    // The other relay is another vendor: it saw nothing of it.
    expect((await receivedMessages(home, "mail-f")).map((m) => m.messageId)).not.toContain(info.messageId);
  });

  it("answer 535 to wrong credentials and count nothing", async () => {
    const before = (await receivedMessages(home, "mail-e")).length;
    expect(await verify(mailer(endpoints["mail-e"]!, "not-the-password"))).toBe(535);
    // mail-f's password is not mail-e's.
    expect(await verify(mailer({ ...endpoints["mail-e"]!, username: endpoints["mail-f"]!.username }, endpoints["mail-f"]!.password))).toBe(535);
    await expect(mailer(endpoints["mail-e"]!, "not-the-password").sendMail({ from: "a@social.test", to: "b@example.test", text: "x" })).rejects.toMatchObject({ responseCode: 535 });
    expect(await receivedMessages(home, "mail-e")).toHaveLength(before);
  });

  it("refuse the platform's own credentials with 535 once the vendor dropped it, and take them again once restored", async () => {
    const transport = mailer(endpoints["mail-e"]!);
    const before = (await receivedMessages(home, "mail-e")).length;
    await dropLocalVendor(home, "mail-e");
    try {
      expect(await verify(transport)).toBe(535);
      await expect(transport.sendMail({ from: "a@social.test", to: "b@example.test", text: "during the drop" })).rejects.toMatchObject({ responseCode: 535 });
      expect(await receivedMessages(home, "mail-e")).toHaveLength(before);
      // The other mail vendor did not drop the platform.
      expect(await verify(mailer(endpoints["mail-f"]!))).toBe(true);
    } finally {
      await restoreLocalVendor(home, "mail-e");
    }
    expect(await verify(transport)).toBe(true);
    const info = await transport.sendMail({ from: "a@social.test", to: "b@example.test", text: "after the drop" });
    expect((await receivedMessages(home, "mail-e")).slice(before).map((m) => [m.messageId, m.body])).toEqual([[info.messageId, "after the drop"]]);
  });

  it("end a session they let in before the drop: its next message is refused and not counted", async () => {
    const pooled = nodemailer.createTransport({ pool: true, maxConnections: 1, host: endpoints["mail-f"]!.host, port: 2525, secure: false, auth: { user: endpoints["mail-f"]!.username, pass: endpoints["mail-f"]!.password }, ignoreTLS: true });
    try {
      await pooled.sendMail({ from: "a@social.test", to: "b@example.test", text: "first" });
      const before = (await receivedMessages(home, "mail-f")).length;
      await dropLocalVendor(home, "mail-f");
      await expect(pooled.sendMail({ from: "a@social.test", to: "b@example.test", text: "second" })).rejects.toMatchObject({ responseCode: 535 });
      expect(await receivedMessages(home, "mail-f")).toHaveLength(before);
    } finally {
      pooled.close();
      await restoreLocalVendor(home, "mail-f");
    }
  });
});

describe("the Twilio-shaped SMS API", () => {
  const sms = { To: "+15558675310", From: "+15017122661", Body: "Your code is 4217" };

  it("answers 201 with the queued message, and counts it with the SID it returned and the client's idempotency key", async () => {
    const endpoint = endpoints["sms-t"]!;
    const sent = await twilioSend(endpoint, sms, { headers: { "I-Twilio-Idempotency-Token": "outbox-17" } });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ account_sid: endpoint.username, status: "queued", to: sms.To, from: sms.From, body: sms.Body, direction: "outbound-api", api_version: "2010-04-01" });
    expect(sent.body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    const again = await twilioSend(endpoint, sms, { headers: { "Idempotency-Key": "outbox-17" } });
    const received = await receivedMessages(home, "sms-t");
    expect(received.map((m) => [m.messageId, m.to, m.from, m.body, m.idempotencyKey])).toEqual([
      [sent.body.sid, [sms.To], sms.From, sms.Body, "outbox-17"],
      [again.body.sid, [sms.To], sms.From, sms.Body, "outbox-17"],
    ]);
    const account = await fetch(`${endpoint.url}/2010-04-01/Accounts/${endpoint.username}.json`, { headers: { authorization: basic(endpoint.username, endpoint.password) } });
    expect(account.status).toBe(200);
    expect(await account.json()).toMatchObject({ sid: endpoint.username, status: "active" });
  });

  it("answers Twilio's 401 (error 20003) to wrong credentials and while it dropped the platform, counting nothing", async () => {
    const endpoint = endpoints["sms-t"]!;
    const before = (await receivedMessages(home, "sms-t")).length;
    const authenticate = { code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 };
    expect(await twilioSend(endpoint, sms, { password: "0".repeat(32) })).toEqual({ status: 401, body: authenticate });
    const account = await fetch(`${endpoint.url}/2010-04-01/Accounts/${endpoint.username}.json`, { headers: { authorization: basic(endpoint.username, "wrong") } });
    expect(account.status).toBe(401);
    await dropLocalVendor(home, "sms-t");
    try {
      expect(await twilioSend(endpoint, sms)).toEqual({ status: 401, body: authenticate });
    } finally {
      await restoreLocalVendor(home, "sms-t");
    }
    expect(await receivedMessages(home, "sms-t")).toHaveLength(before);
    expect((await twilioSend(endpoint, sms)).status).toBe(201);
    expect(await receivedMessages(home, "sms-t")).toHaveLength(before + 1);
  });

  it("refuses a message without a recipient with Twilio's 400 (error 21604), counting nothing", async () => {
    const before = (await receivedMessages(home, "sms-t")).length;
    const sent = await twilioSend(endpoints["sms-t"]!, { From: sms.From, Body: sms.Body });
    expect(sent).toMatchObject({ status: 400, body: { code: 21604, status: 400 } });
    expect(await receivedMessages(home, "sms-t")).toHaveLength(before);
  });
});

describe("the Vonage-shaped SMS API", () => {
  const sms = { from: "Social", to: "447700900000", text: "Your code is 4217" };

  it("accepts form and JSON requests with status 0, and counts each with the message-id it returned", async () => {
    const endpoint = endpoints["sms-v"]!;
    const form = await vonageSend(endpoint, sms);
    const json = await vonageSend(endpoint, { ...sms, text: "second" }, true);
    for (const sent of [form, json]) {
      expect(sent.status).toBe(200);
      expect(sent.body["message-count"]).toBe("1");
      expect(sent.body.messages[0]).toMatchObject({ status: "0", to: sms.to });
    }
    const received = await receivedMessages(home, "sms-v");
    expect(received.map((m) => [m.messageId, m.from, m.to, m.body])).toEqual([
      [form.body.messages[0]!["message-id"], sms.from, [sms.to], sms.text],
      [json.body.messages[0]!["message-id"], sms.from, [sms.to], "second"],
    ]);
    const balance = await fetch(`${endpoint.url}/account/get-balance?api_key=${endpoint.username}&api_secret=${endpoint.password}`);
    expect(balance.status).toBe(200);
    expect(await balance.json()).toEqual({ value: Number(json.body.messages[0]!["remaining-balance"]), autoReload: false });
  });

  it("answers status 4 (Bad Credentials) to wrong credentials and while it dropped the platform, and its balance 401, counting nothing", async () => {
    const endpoint = endpoints["sms-v"]!;
    const before = (await receivedMessages(home, "sms-v")).length;
    const badCredentials = { "message-count": "1", messages: [{ status: "4", "error-text": "Bad Credentials" }] };
    expect(await vonageSend(endpoint, { ...sms, api_secret: "0".repeat(16) })).toEqual({ status: 200, body: badCredentials });
    await dropLocalVendor(home, "sms-v");
    try {
      expect(await vonageSend(endpoint, sms)).toEqual({ status: 200, body: badCredentials });
      expect((await fetch(`${endpoint.url}/account/get-balance?api_key=${endpoint.username}&api_secret=${endpoint.password}`)).status).toBe(401);
    } finally {
      await restoreLocalVendor(home, "sms-v");
    }
    expect(await receivedMessages(home, "sms-v")).toHaveLength(before);
    expect((await vonageSend(endpoint, sms)).body.messages[0]!.status).toBe("0");
  });

  it("answers status 2 to a message without text, counting nothing", async () => {
    const before = (await receivedMessages(home, "sms-v")).length;
    const { text: _text, ...withoutText } = sms;
    expect((await vonageSend(endpoints["sms-v"]!, withoutText)).body.messages[0]).toEqual({ status: "2", "error-text": "Missing text param" });
    expect(await receivedMessages(home, "sms-v")).toHaveLength(before);
  });
});

describe("dropping and restoring", () => {
  it("refuses a name that is no vendor of this home, naming those that are, and changes nothing", async () => {
    await expect(dropLocalVendor(home, "mail-x")).rejects.toThrow('"mail-x" is not a local vendor of this platform; there are: mail-e, mail-f, sms-t, sms-v');
    await expect(receivedMessages(home, "mail-x")).rejects.toThrow("there are: mail-e, mail-f, sms-t, sms-v");
    await expect(fs.access(path.join(vendorsDir(home), "mail-x"))).rejects.toThrow();
  });
});

describe("removeLocalVendors", () => {
  it("stops every vendor, frees their ports and removes their files", async () => {
    const supervisors = wanted.map((w) => supervisorPid(serverDir(w.name))!);
    const servers = wanted.flatMap((w) => Object.values(readStatus(serverDir(w.name))?.processes ?? {}).map((p) => p.pid));
    await removeLocalVendors(home);
    expect([...supervisors, ...servers].filter(isAlive)).toEqual([]);
    for (const endpoint of Object.values(endpoints)) expect(await portOpen(endpoint.host, endpoint.port)).toBe(false);
    await expect(fs.access(vendorsDir(home))).rejects.toThrow();
    expect(await localVendors(home)).toEqual([]);
    expect(await localVendorEndpoint(home, "mail-e")).toBeUndefined();
  });
});
