/**
 * The platform's outside vendors on the local provider, with the real engine:
 * the reference service sends a confirmation email and sign-in codes through
 * the vendor in use (the local internet's SMTP relays and SMS APIs, which count
 * what they accept); a vendor that drops the platform leaves messages waiting
 * in the outbox and status warns; `services switch` delivers every waiting
 * message through the alternate exactly once; a warm failover in the middle of
 * a stream of sign-ups loses no message and sends none twice. No vendor
 * credential appears in any output, journal, log or state file.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { localVendorEndpoint, receivedMessages, type ReceivedMessage } from "../../providers/local/vendors.ts";
import { api, eventually, ingress } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import type { Sandbox } from "./sandbox.ts";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));

/** Everything the commands printed: searched for credentials at the end. */
const printed: string[] = [];
async function lifeboat(args: string[]) {
  const result = await sandbox.lifeboat(args);
  printed.push(result.stdout, result.stderr);
  return result;
}

const standbyIngress = "127.2.1.1";
const received = (vendor: string) => receivedMessages(sandbox.home, vendor);
const to = (messages: ReceivedMessage[], recipient: string) => messages.filter((m) => m.to.includes(recipient));
/** Message keys (Message-ID, idempotency key) seen more than once at the vendors named. */
async function duplicates(vendors: string[]): Promise<string[]> {
  const keys = (await Promise.all(vendors.map(received))).flat().map((m) => m.messageId);
  return keys.filter((key, i) => keys.indexOf(key) !== i);
}

async function servicesStatus() {
  const result = await lifeboat(["services", "status", "--json"]);
  return { code: result.code, status: JSON.parse(result.stdout), stderr: result.stderr };
}

const outboxOf = (status: any, fn: string) => status.functions.find((f: any) => f.function === fn).outbox;

describe("the platform's email and SMS vendors", { timeout: 300_000 }, () => {
  it("deploys both sites with every vendor of lifeboat.yaml", async () => {
    for (const args of [["deploy"], ["deploy", "--site", "local-b"]]) {
      const result = await lifeboat(args);
      expect(result.code, result.stderr).toBe(0);
    }
    for (const vendor of ["mail-e", "mail-f", "sms-g", "sms-h"]) expect(await localVendorEndpoint(sandbox.home, vendor), vendor).toBeDefined();
  });

  it("an account created sends exactly one confirmation email, through the vendor in use", async () => {
    const created = await api("POST", "/accounts", { handle: "alice", email: "alice@example.test", phone: "+15555550101" });
    expect(created.status).toBe(201);
    const mails = await eventually(() => received("mail-e"), (m) => to(m, "alice@example.test").length > 0);
    expect(to(mails, "alice@example.test")).toHaveLength(1);
    expect(to(mails, "alice@example.test")[0]).toMatchObject({ subject: "Welcome to social.test, @alice" });
    // The same sign-up again creates nothing and sends nothing.
    expect((await api("POST", "/accounts", { handle: "alice", email: "alice@example.test" })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(to(await received("mail-e"), "alice@example.test")).toHaveLength(1);
    expect(await received("mail-f")).toEqual([]);
    const { code, status } = await servicesStatus();
    expect(code).toBe(0);
    const email = status.functions.find((f: any) => f.function === "email");
    expect(email).toMatchObject({ inUse: "mail-e", workingAlternates: ["mail-f"], outbox: { waiting: 0, failed: 0 } });
    expect(email.vendors.map((v: any) => [v.name, v.check.ok])).toEqual([["mail-e", true], ["mail-f", true]]);
    expect(status.functions.find((f: any) => f.function === "payments")).toMatchObject({ switchable: false, inUse: "stripe" });
  });

  it("with the vendor in use dropping the platform, messages wait in the outbox and status warns", async () => {
    expect((await lifeboat(["local", "drop-vendor", "mail-e"])).code).toBe(0);
    for (const handle of ["bob", "carol", "dave"]) expect((await api("POST", "/accounts", { handle, email: `${handle}@example.test` })).status).toBe(201);
    const { code, status } = await eventually(servicesStatus, (s) => outboxOf(s.status, "email")?.failed === 3);
    expect(code).toBe(1);
    expect(outboxOf(status, "email")).toMatchObject({ waiting: 3, failed: 3 });
    expect(status.warnings.join("\n")).toMatch(/email: mail-e, the vendor in use, fails its check .*3 messages waiting.*lifeboat services switch email --to mail-f/);
    const platform = await lifeboat(["status"]);
    expect(platform.stdout).toMatch(/!! email: mail-e, the vendor in use, fails its check/);
    expect(platform.stdout).toMatch(/services email FAIL  in use mail-e; outbox 3 waiting/);
    for (const handle of ["bob", "carol", "dave"]) expect(to(await received("mail-e"), `${handle}@example.test`)).toEqual([]);
  });

  it("refuses a switch to what lifeboat.yaml does not list, changing nothing", async () => {
    const unknownFunction = await lifeboat(["services", "switch", "fax", "--to", "mail-f", "--yes"]);
    expect(unknownFunction.code).toBe(2);
    expect(unknownFunction.stderr).toMatch(/<function>: "fax" is not one Lifeboat switches; accepted: email, sms/);
    const unknownVendor = await lifeboat(["services", "switch", "email", "--to", "sms-h", "--yes"]);
    expect(unknownVendor.code).toBe(2);
    expect(unknownVendor.stderr).toMatch(/--to: no email vendor "sms-h" in lifeboat\.yaml; accepted: mail-e, mail-f/);
    await expect(fs.access(path.join(sandbox.home, "services.json"))).rejects.toThrow();
  });

  it("switching email to the alternate delivers every waiting message through it, exactly once, and records it", async () => {
    const result = await lifeboat(["services", "switch", "email", "--to", "mail-f", "--yes", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ function: "email", from: "mail-e", to: "mail-f", probe: { sent: true, sentVia: "mail-f" } });
    expect(report.steps.map((s: any) => s.name)).toEqual(["preflight", "use", "verify", "record"]);
    const mails = await eventually(() => received("mail-f"), (m) => ["bob", "carol", "dave"].every((h) => to(m, `${h}@example.test`).length > 0));
    for (const handle of ["bob", "carol", "dave"]) expect(to(mails, `${handle}@example.test`), handle).toHaveLength(1);
    expect(await duplicates(["mail-e", "mail-f"])).toEqual([]);
    const record = JSON.parse(await fs.readFile(path.join(sandbox.home, "services.json"), "utf8"));
    expect(record.email).toMatchObject({ vendor: "mail-f", previous: "mail-e", run: report.run });
    const { status } = await servicesStatus();
    expect(status.functions.find((f: any) => f.function === "email")).toMatchObject({ inUse: "mail-f", declared: "mail-e", outbox: { waiting: 0 } });
    expect(status.warnings.join("\n")).toMatch(/lifeboat\.yaml says mail-e is in use; since switch run .* mail-f is/);
  });

  it("the same for SMS: a sign-in code goes through sms-g; dropped, codes wait; switched, sms-h delivers each once", async () => {
    expect((await api("POST", "/sign-in-codes", { handle: "alice" })).status).toBe(202);
    const first = await eventually(() => received("sms-g"), (m) => to(m, "+15555550101").length > 0);
    expect(to(first, "+15555550101")).toHaveLength(1);
    expect(to(first, "+15555550101")[0]!.body).toMatch(/^Your social\.test sign-in code is \d{6}$/);
    expect((await lifeboat(["local", "drop-vendor", "sms-g"])).code).toBe(0);
    for (let i = 0; i < 3; i++) expect((await api("POST", "/sign-in-codes", { handle: "alice" })).status).toBe(202);
    const { code } = await eventually(servicesStatus, (s) => outboxOf(s.status, "sms")?.failed === 3);
    expect(code).toBe(1);
    const result = await lifeboat(["services", "switch", "sms", "--to", "sms-h", "--yes"]);
    expect(result.code, result.stderr).toBe(0);
    const codes = await eventually(() => received("sms-h"), (m) => to(m, "+15555550101").length >= 3);
    expect(to(codes, "+15555550101")).toHaveLength(3);
    expect(to(await received("sms-g"), "+15555550101")).toHaveLength(1);
    expect(await duplicates(["sms-g", "sms-h"])).toEqual([]);
  });

  it("a warm failover in the middle of a stream of sign-ups loses no message and sends none twice", async () => {
    const acknowledged: string[] = [];
    const attempted: string[] = [];
    let stop = false;
    const signUp = async (handle: string) => {
      attempted.push(handle);
      for (const address of [ingress, standbyIngress]) {
        const answer = await api("POST", "/accounts", { handle, email: `${handle}@example.test` }, address).catch(() => undefined);
        if (answer?.status === 201) return void acknowledged.push(handle);
      }
    };
    const stream = (async () => {
      for (let i = 0; !stop; i++) {
        await signUp(`stream_${i}`);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await new Promise((r) => setTimeout(r, 2_000));
    const failover = await lifeboat(["failover", "--to", "local-b", "--yes"]);
    expect(failover.code, failover.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 2_000));
    stop = true;
    await stream;
    expect(acknowledged.length).toBeGreaterThan(20);
    const mails = await eventually(
      async () => [...(await received("mail-e")), ...(await received("mail-f"))],
      (m) => acknowledged.every((h) => to(m, `${h}@example.test`).length > 0),
      30_000,
    );
    const missing = acknowledged.filter((h) => to(mails, `${h}@example.test`).length === 0);
    expect(missing, "acknowledged sign-ups whose email never arrived").toEqual([]);
    const twice = attempted.filter((h) => to(mails, `${h}@example.test`).length > 1);
    expect(twice, "sign-ups whose email arrived twice").toEqual([]);
    expect(await duplicates(["mail-e", "mail-f"])).toEqual([]);
    // Sent from the new primary: its outbox is empty and still uses the vendor switched to.
    const { status } = await servicesStatus();
    expect(status.site).toBe("local-b");
    expect(status.functions.find((f: any) => f.function === "email")).toMatchObject({ inUse: "mail-f", outbox: { waiting: 0, resentInDoubt: 0 } });
  });

  it("no vendor credential appears in any output, journal, log or state file", async () => {
    const secrets = (await Promise.all(["mail-e", "mail-f", "sms-g", "sms-h"].map((v) => localVendorEndpoint(sandbox.home, v)))).flatMap((e) => [e!.password]);
    expect(secrets.every((s) => s.length >= 12)).toBe(true);
    const files: string[] = [];
    const walk = async (dir: string) => {
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        // The vendors' own records, and each local server's definition (its env, as /etc/lifeboat/app.env on a cloud server), are where credentials belong.
        if (entry.isDirectory()) {
          if (full === path.join(sandbox.home, "local", "vendors")) continue;
          await walk(full);
        } else if (entry.name !== "server.json") files.push(full);
      }
    };
    await walk(sandbox.home);
    for (const file of await fs.readdir(sandbox.root)) if (file.startsWith("Pulumi.")) files.push(path.join(sandbox.root, file));
    expect(files.some((f) => f.includes(`${path.sep}state${path.sep}`))).toBe(true);
    const leaks: string[] = [];
    for (const file of files) {
      const text = await fs.readFile(file, "utf8").catch(() => "");
      for (const secret of secrets) if (text.includes(secret)) leaks.push(file);
    }
    for (const secret of secrets) if (printed.some((p) => p.includes(secret))) leaks.push("a command's output");
    expect(leaks).toEqual([]);
  });
});
