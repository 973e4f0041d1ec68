/**
 * lifeboat.yaml's `services:` and what Lifeboat makes of it: the validation of
 * each function's vendors, the settings app servers get (and that the
 * workload reads them back as written), credentials from the environment or
 * kept from an earlier deploy, the switch record, and the warnings status gives.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../model/errors.ts";
import { projectRoot } from "../../model/paths.ts";
import { applyServiceRecord, serviceDrift, type ServiceRecord } from "../../model/service-record.ts";
import { loadSpec, parseSpec, type Spec } from "../../model/spec/index.ts";
import { servicesEnv, servicesEnvName } from "../../providers/shared/services-env.ts";
import type { LocalVendors } from "../../providers/types.ts";
import { servicesSettings, type ServicesSettings } from "../../operations/services/settings.ts";
import { servicesWarnings, type FunctionStatus } from "../../operations/services/status.ts";
import { formatServicesStatus } from "../../operations/services/text.ts";
import { servicesEnvName as workloadEnvName, servicesFromEnv } from "../../workload/services.ts";
import { main } from "../../cli/index.ts";
import { fakeDeps } from "../fakes/deps.ts";
import { issuesOf } from "../fakes/spec.ts";

const minimal = (services: unknown) => ({
  domain: "social.example",
  roles: { ingress: { count: 1 }, app: { count: 2 }, db: { count: 1 } },
  sites: [{ name: "main", provider: "local-a", role: "active" }],
  edges: [{ name: "dns-1", provider: "local-c" }],
  services,
});

const sendgrid = { name: "sendgrid", smtp: { host: "smtp.sendgrid.net" }, credentials: { username: { env: "SENDGRID_USER" }, password: { env: "SENDGRID_KEY" } } };
const mailgun = { name: "mailgun", smtp: { host: "smtp.mailgun.org", port: 465, tls: "implicit" }, credentials: { username: { env: "MAILGUN_USER" }, password: { env: "MAILGUN_KEY" } } };
const twilio = { name: "twilio", sms: { kind: "twilio" }, credentials: { username: { env: "TWILIO_SID" }, password: { env: "TWILIO_TOKEN" } } };
const vonage = { name: "vonage", sms: { kind: "vonage" }, credentials: { username: { env: "VONAGE_KEY" }, password: { env: "VONAGE_SECRET" } } };

describe("lifeboat.yaml services:", () => {
  it("the shipped file lists two local vendors each for email and SMS, and payments and app distribution for the runbooks", () => {
    const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
    expect(spec.services.email).toMatchObject({ vendor: { name: "mail-e", local: true }, alternates: [{ name: "mail-f", local: true }] });
    expect(spec.services.sms).toMatchObject({ vendor: { name: "sms-g", sms: { kind: "twilio" } }, alternates: [{ name: "sms-h", sms: { kind: "vonage" } }] });
    expect(spec.services.payments?.byHand).toMatch(/KYC/);
  });

  it("accepts real vendors with their defaults: SMTP on 587 with STARTTLS, the SMS kind's public API", () => {
    const spec = parseSpec(minimal({ email: { vendor: sendgrid, alternates: [mailgun] }, sms: { vendor: twilio, alternates: [vonage], probeTo: "+15555550100", from: "+15555550199" } }));
    expect(spec.services.email!.vendor.smtp).toEqual({ host: "smtp.sendgrid.net", port: 587, tls: "starttls" });
    expect(spec.services.email!.alternates[0]!.smtp).toEqual({ host: "smtp.mailgun.org", port: 465, tls: "implicit" });
    expect(parseSpec(minimal({})).services).toEqual({});
  });

  it("refuses an alternate that is the vendor in use, and a duplicate alternate", () => {
    expect(issuesOf(minimal({ email: { vendor: sendgrid, alternates: [sendgrid] } }))).toContain(
      'services.email.alternates[0].name: "sendgrid" is the vendor in use for email: an alternate must be another vendor (one that does not drop you with it)',
    );
    expect(issuesOf(minimal({ email: { vendor: sendgrid, alternates: [mailgun, mailgun] } }))).toContain('services.email.alternates[1].name: duplicate email vendor "mailgun"');
  });

  it("refuses a vendor that does not say how its function reaches it, or says it for another function", () => {
    const issues = issuesOf(minimal({ email: { vendor: { name: "ses", credentials: sendgrid.credentials } }, sms: { vendor: { ...sendgrid, name: "x" }, probeTo: "+15555550100" }, payments: { vendor: { name: "stripe", sms: { kind: "twilio" } } } }));
    expect(issues).toEqual(
      expect.arrayContaining([
        "services.email.vendor.smtp: required for an email vendor: the SMTP relay the workload submits to (host, port, tls)",
        "services.sms.vendor.sms: required for an SMS vendor: its API's kind (twilio, vonage) and, unless the kind's public one, its url",
        "services.sms.vendor.smtp: only email vendors have one; sms is not email",
        "services.payments.vendor.sms: only SMS vendors have one; payments is not sms",
      ]),
    );
    expect(issuesOf(minimal({ sms: { vendor: { name: "t", sms: { kind: "sinch" } } } })).join("\n")).toMatch(/services\.sms\.vendor\.sms\.kind: got "sinch"; accepted: "twilio", "vonage"/);
  });

  it("never lets a real vendor's credentials cross the network in the clear", () => {
    expect(issuesOf(minimal({ email: { vendor: { ...sendgrid, smtp: { host: "smtp.sendgrid.net", port: 25, tls: "none" } } } }))).toContain(
      'services.email.vendor.smtp: tls: none would send the credentials in the clear; accepted for a real vendor: "starttls", "implicit"',
    );
    expect(issuesOf(minimal({ sms: { vendor: { ...twilio, sms: { kind: "twilio", url: "http://api.twilio.com" } }, probeTo: "+15555550100", from: "+15555550199" } }))).toContain(
      "services.sms.vendor.sms: url: http:// would send the credentials in the clear; use https://",
    );
  });

  it("wants credentials for a real vendor, none for a local one or one Lifeboat never calls, and a probe number for real SMS", () => {
    expect(issuesOf(minimal({ email: { vendor: { name: "ses", smtp: { host: "email-smtp.eu-west-1.amazonaws.com" } } } }))).toContain(
      "services.email.vendor.credentials: required: the environment variables holding the username and password (credentials: { username: { env: NAME }, password: { env: NAME } })",
    );
    expect(issuesOf(minimal({ email: { vendor: { name: "mail-e", smtp: { host: "127.0.0.1" }, local: true, credentials: sendgrid.credentials } } }))).toEqual(
      expect.arrayContaining([
        "services.email.vendor.smtp: a vendor of the local internet says where it answers: remove host, or set local: false",
        "services.email.vendor.credentials: a vendor of the local internet issues its own credentials: remove the field, or set local: false",
      ]),
    );
    expect(issuesOf(minimal({ payments: { vendor: { name: "stripe", credentials: sendgrid.credentials } } }))).toContain(
      "services.payments.vendor.credentials: Lifeboat does not call payments vendors, so it keeps no credentials for them; remove the field",
    );
    expect(issuesOf(minimal({ sms: { vendor: twilio } }))).toEqual(
      expect.arrayContaining([
        "services.sms.probeTo: required when a vendor is a real one: the number `lifeboat services switch sms` sends its probe to (a phone the team watches)",
        "services.sms.from: required when a vendor is a real one: the sender number or name every SMS vendor listed accepts (US numbers refuse letters)",
      ]),
    );
    expect(issuesOf(minimal({ email: { vendor: { ...sendgrid, credentials: { username: { env: "lower" }, password: { env: "X" } } } } })).join("\n")).toMatch(
      /services\.email\.vendor\.credentials\.username\.env: must be an environment variable name/,
    );
  });
});

const fakeLocalVendors = (): LocalVendors & { started: string[] } => {
  const started: string[] = [];
  return {
    started,
    ensure: async (vendors) => {
      started.push(...vendors.map((v) => v.name));
      return vendors.map((v, i) => ({ name: v.name, kind: v.kind, host: `127.25.0.${i + 1}`, port: v.kind === "smtp" ? 2525 : 8080, tls: "none" as const, ...(v.kind === "smtp" ? {} : { url: `http://127.25.0.${i + 1}:8080` }), username: `user-${v.name}`, password: `password-of-${v.name}` }));
    },
    endpoint: async () => undefined,
    remove: async () => undefined,
  };
};

describe("the settings app servers get", () => {
  const realSpec = () => parseSpec(minimal({ email: { vendor: sendgrid, alternates: [mailgun] }, sms: { vendor: twilio, probeTo: "+15555550100", from: "+15555550199" } }));
  const env = { SENDGRID_USER: "apikey", SENDGRID_KEY: "SG.secret-1", MAILGUN_USER: "postmaster", MAILGUN_KEY: "mg-secret-2", TWILIO_SID: "AC123", TWILIO_TOKEN: "tw-secret-3" };

  it("holds every email and SMS vendor with where it answers and its credentials, the one in use named", async () => {
    const settings = await servicesSettings(realSpec(), { env, start: true, kept: [] });
    expect(settings).toEqual({
      domain: "social.example",
      email: {
        from: "no-reply@social.example",
        inUse: "sendgrid",
        vendors: {
          sendgrid: { kind: "smtp", host: "smtp.sendgrid.net", port: 587, tls: "starttls", username: "apikey", password: "SG.secret-1" },
          mailgun: { kind: "smtp", host: "smtp.mailgun.org", port: 465, tls: "implicit", username: "postmaster", password: "mg-secret-2" },
        },
      },
      sms: { from: "+15555550199", inUse: "twilio", vendors: { twilio: { kind: "twilio", url: "https://api.twilio.com", username: "AC123", password: "tw-secret-3" } } },
    });
    expect(await servicesSettings(parseSpec(minimal({ payments: { vendor: { name: "stripe" } } })), { env, start: true, kept: [] })).toBeUndefined();
  });

  it("takes a credential whose variable is not set from what an earlier deploy kept, else refuses naming the field and the variable", async () => {
    const kept = (await servicesSettings(realSpec(), { env, start: true, kept: [] }))!;
    const { SENDGRID_KEY: _gone, ...without } = env;
    let reads = 0;
    const fromKept = await servicesSettings(realSpec(), { env: without, start: true, kept: [async () => (reads++, undefined), async () => kept] });
    expect(fromKept!.email!.vendors.sendgrid).toMatchObject({ password: "SG.secret-1" });
    expect(reads).toBe(1);
    // With every variable set, nothing kept is read (a deploy decrypts no other stack).
    await servicesSettings(realSpec(), { env, start: true, kept: [async () => (reads++, undefined)] });
    expect(reads).toBe(1);
    const refused = await servicesSettings(realSpec(), { env: without, start: true, kept: [async () => undefined] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).message).toBe("services.email.vendor.credentials.password: the environment variable SENDGRID_KEY is not set, and no earlier deploy kept a value for sendgrid");
    expect((refused as UserError).hint).toMatch(/^export SENDGRID_KEY/);
  });

  it("starts the local internet's vendors on deploy and only reads them on a diff", async () => {
    const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
    const local = fakeLocalVendors();
    const settings = await servicesSettings(spec, { env: {}, localVendors: local, start: true, kept: [] });
    expect(local.started).toEqual(["mail-e", "mail-f", "sms-g", "sms-h"]);
    expect(settings!.sms!.vendors["sms-h"]).toEqual({ kind: "vonage", url: "http://127.25.0.4:8080", username: "user-sms-h", password: "password-of-sms-h" });
    const diff = fakeLocalVendors();
    const read = await servicesSettings(spec, { env: {}, localVendors: diff, start: false, kept: [] });
    expect(diff.started).toEqual([]);
    expect(read!.email!.vendors).toEqual({});
  });

  it("reach the workload as written: one environment variable the workload reads back whole", async () => {
    expect(workloadEnvName).toBe(servicesEnvName);
    const settings = (await servicesSettings(realSpec(), { env, start: true, kept: [] }))!;
    const env1 = servicesEnv(JSON.stringify(settings));
    expect(Object.keys(env1)).toEqual([servicesEnvName]);
    // No credential readable in the variable as it sits in an env file or a process listing.
    expect(env1[servicesEnvName]).not.toContain("SG.secret-1");
    expect(servicesFromEnv(env1)).toEqual(settings);
    expect(servicesEnv(undefined)).toEqual({});
    expect(() => servicesFromEnv({ [servicesEnvName]: Buffer.from(JSON.stringify({ domain: "x", email: { from: "a", inUse: "gone", vendors: {} } })).toString("base64") })).toThrow(
      /LIFEBOAT_SERVICES\.email must give from, inUse and vendors holding the one in use/,
    );
  });
});

describe("the switch record", () => {
  const spec = (): Spec => loadSpec(path.join(projectRoot, "lifeboat.yaml"));
  const record: ServiceRecord = { email: { vendor: "mail-f", previous: "mail-e", run: "switch-1", at: "2026-12-07T00:00:00Z" } };

  it("puts the recorded vendor in use, the one lifeboat.yaml named becoming an alternate", () => {
    const applied = applyServiceRecord(spec(), record);
    expect(applied.services.email!.vendor.name).toBe("mail-f");
    expect(applied.services.email!.alternates.map((v) => v.name)).toEqual(["mail-e"]);
    expect(applied.services.sms).toEqual(spec().services.sms);
    expect(applyServiceRecord(spec(), undefined)).toEqual(spec());
  });

  it("says where lifeboat.yaml disagrees, and ignores a vendor it no longer lists", () => {
    expect(serviceDrift(spec(), record)).toEqual(["services.email: lifeboat.yaml says mail-e is in use; since switch run switch-1 (2026-12-07T00:00:00Z) mail-f is (recorded in .lifeboat/services.json): update lifeboat.yaml to match"]);
    const gone: ServiceRecord = { email: { ...record.email!, vendor: "ses" } };
    expect(applyServiceRecord(spec(), gone).services.email!.vendor.name).toBe("mail-e");
    expect(serviceDrift(spec(), gone)[0]).toMatch(/switched to ses .*which lifeboat\.yaml no longer lists/);
  });
});

describe("services warnings", () => {
  const email = (over: Partial<FunctionStatus> = {}): FunctionStatus => ({
    function: "email",
    switchable: true,
    inUse: "mail-e",
    declared: "mail-e",
    vendors: [
      { name: "mail-e", kind: "smtp", inUse: true, local: true, check: { ok: true, detail: "EHLO and AUTH accepted", ms: 3 } },
      { name: "mail-f", kind: "smtp", inUse: false, local: true, check: { ok: true, detail: "EHLO and AUTH accepted", ms: 3 } },
    ],
    workingAlternates: ["mail-f"],
    expected: "mail-e",
    outbox: { waiting: 0, failed: 0, oldestWaitingSeconds: 0, resentInDoubt: 0, givenUp: 0, lastError: null },
    ...over,
  });

  it("none while the vendor in use works and an alternate does too", () => {
    expect(servicesWarnings({ functions: [email()] }, [])).toEqual([]);
  });

  it("a failing vendor in use names the waiting messages and the switch to make", () => {
    const failing = email({
      vendors: [{ ...email().vendors[0]!, check: { ok: false, detail: "127.25.0.1:2525: 535 Authentication failed", ms: 2 } }, email().vendors[1]!],
      outbox: { waiting: 3, failed: 3, oldestWaitingSeconds: 12.4, resentInDoubt: 0, givenUp: 0, lastError: "535" },
    });
    expect(servicesWarnings({ functions: [failing] }, [])).toEqual([
      "email: mail-e, the vendor in use, fails its check (127.25.0.1:2525: 535 Authentication failed); 3 messages waiting, the oldest for 12 s; switch: lifeboat services switch email --to mail-f",
    ]);
  });

  it("a function with no working alternate, and a listed function with none at all", () => {
    const alone = email({ vendors: [email().vendors[0]!, { ...email().vendors[1]!, check: { ok: false, detail: "connection refused", ms: 1 } }], workingAlternates: [] });
    const payments: FunctionStatus = { function: "payments", switchable: false, inUse: "stripe", expected: "stripe", declared: "stripe", vendors: [{ name: "stripe", kind: "none", inUse: true, local: false }], workingAlternates: [] };
    expect(servicesWarnings({ functions: [alone, payments] }, [])).toEqual([
      "email: no working alternate (mail-f: connection refused): if mail-e drops the platform, email stops",
      "payments: stripe has no alternate listed: if it drops the platform, there is nobody to go to (services.payments.alternates)",
    ]);
  });

  it("the text never holds more than the status: no credential can appear in it", () => {
    const text = formatServicesStatus({ at: "2026-12-07T00:00:00Z", site: "local-a", functions: [email()], warnings: [], ok: true });
    expect(text).toContain("ok   * mail-e");
    expect(text).toContain("outbox: 0 waiting, 0 failed");
    expect(text).toContain("no warnings");
  });
});

// The settings type and the workload's are one shape: a change to one without the other fails to compile here.
const _sameShape: ServicesSettings = {} as import("../../workload/services.ts").ServicesSettings;
void _sameShape;

describe("lifeboat services switch (command line)", () => {
  const platform = () => ({ spec: loadSpec(path.join(projectRoot, "lifeboat.yaml")), declaredSpec: loadSpec(path.join(projectRoot, "lifeboat.yaml")), home: "/nonexistent" }) as unknown as import("../../operations/platform.ts").Platform;
  const run = async (args: string[], overrides: Partial<import("../../cli/index.ts").ProgramDeps> = {}) => {
    const { checkSwitchInput } = await import("../../operations/services/switch.ts");
    const deps = fakeDeps({ loadPlatform: () => platform(), validateSwitch: checkSwitchInput, ...overrides });
    const code = await main(["services", ...args], deps);
    return { code, deps };
  };

  it("refuses a function or vendor lifeboat.yaml does not list with exit 2, before asking or switching anything", async () => {
    const { code, deps } = await run(["switch", "fax", "--to", "mail-f"]);
    expect(code).toBe(2);
    expect(deps.io.stderr()).toMatch(/<function>: "fax" is not one Lifeboat switches; accepted: email, sms/);
    expect(deps.confirm).not.toHaveBeenCalled();
    expect(deps.switchVendor).not.toHaveBeenCalled();
    const wrongVendor = await run(["switch", "sms", "--to", "mail-f", "--yes"]);
    expect(wrongVendor.code).toBe(2);
    expect(wrongVendor.deps.io.stderr()).toMatch(/--to: no sms vendor "mail-f" in lifeboat\.yaml; accepted: sms-g, sms-h/);
    expect(wrongVendor.deps.switchVendor).not.toHaveBeenCalled();
  });

  it("asks for the vendor's name without --yes, and switches nothing when not confirmed", async () => {
    const { code, deps } = await run(["switch", "email", "--to", "mail-f"]);
    expect(code).toBe(2);
    expect(deps.confirm).toHaveBeenCalledWith(expect.stringMatching(/^switch email of social\.test to mail-f\?/), "mail-f");
    expect(deps.io.stderr()).toMatch(/switch of email to mail-f not confirmed; nothing was changed/);
    expect(deps.switchVendor).not.toHaveBeenCalled();
  });
});
