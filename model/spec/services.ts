/**
 * lifeboat.yaml's `services:`: the outside vendors the platform depends on, by
 * function, each with the vendor in use and its alternates. Email and SMS are
 * called by the workload, so Lifeboat delivers through them and switches them;
 * the other functions are listed so the runbooks can say what to do by hand.
 */
import { z } from "zod";

/** What the workload calls itself: Lifeboat gives app servers these vendors' settings and switches between them. */
export const switchableFunctions = ["email", "sms"] as const;
export type SwitchableFunction = (typeof switchableFunctions)[number];
/** Listed for the runbooks: Lifeboat cannot switch them (a payment processor or an app store needs a person). */
export const listedFunctions = ["payments", "identity", "chat", "appDistribution"] as const;
export const serviceFunctions = [...switchableFunctions, ...listedFunctions] as const;
export type ServiceFunction = (typeof serviceFunctions)[number];

/** The HTTP SMS APIs the workload speaks, by the vendor whose shape they have. */
export const smsKinds = ["twilio", "vonage"] as const;
export type SmsKind = (typeof smsKinds)[number];
/** Each kind's public API, used when a vendor gives no url. */
export const smsDefaultUrls: Record<SmsKind, string> = { twilio: "https://api.twilio.com", vonage: "https://rest.nexmo.com" };
export const smtpTlsModes = ["starttls", "implicit", "none"] as const;

const vendorName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "must be lower-case letters, digits and dashes, starting with a letter");
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name such as SENDGRID_API_KEY");
const host = z.string().regex(/^([0-9]{1,3}(\.[0-9]{1,3}){3}|([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?)$/i, "must be an IP address or a host name");

/**
 * Where a credential is read: an environment variable of the machine that runs
 * `lifeboat deploy`. Lifeboat keeps it as a Pulumi secret in every site's
 * stack, so a failover at night, from another shell, needs no variable set.
 */
const credential = z.strictObject({ env: envName });

const smtp = z.strictObject({
  /** Absent for a vendor of the local internet (`local: true`), which says where it is. */
  host: host.optional(),
  port: z.number().int().min(1).max(65_535).default(587),
  tls: z.enum(smtpTlsModes).default("starttls"),
});

const sms = z.strictObject({
  kind: z.enum(smsKinds),
  /** The API's base URL; by default the kind's public API (local vendors say their own). */
  url: z.string().regex(/^https?:\/\/[a-z0-9.:[\]-]+(:\d+)?\/?$/i, "must be http(s)://host[:port]").optional(),
});

export const vendorSchema = z.strictObject({
  name: vendorName,
  /** An email vendor: the SMTP relay the workload submits to. */
  smtp: smtp.optional(),
  /** An SMS vendor: its HTTP API. */
  sms: sms.optional(),
  /** A vendor of the local internet: deploy starts it, and its credentials come from it. */
  local: z.boolean().default(false),
  /** smtp: user and password; twilio: account SID and auth token; vonage: api_key and api_secret. */
  credentials: z.strictObject({ username: credential, password: credential }).optional(),
});
export type VendorSpec = z.output<typeof vendorSchema>;

const service = z.strictObject({
  /** The vendor in use, as lifeboat.yaml was written (`lifeboat services switch` records another). */
  vendor: vendorSchema,
  alternates: z.array(vendorSchema).default([]),
  /** The sender: an email address for email (default no-reply@<domain>), a number or name for SMS (default the domain's first label). */
  from: z.string().min(1).max(200).optional(),
  /** Where `services switch` sends its probe: an address for email (default: the sender), a number for SMS (required unless every vendor is the local internet's). */
  probeTo: z.string().min(1).max(200).optional(),
  /** For the runbooks: what to do by hand when this vendor drops the platform. */
  byHand: z.string().min(1).optional(),
});
export type ServiceSpec = z.output<typeof service>;

export const servicesSchema = z.strictObject(Object.fromEntries(serviceFunctions.map((f) => [f, service.optional()])) as Record<ServiceFunction, z.ZodOptional<typeof service>>);
export type ServicesSpec = z.output<typeof servicesSchema>;

/** The vendors of one function, the one in use first. */
export const vendorsOf = (entry: ServiceSpec): VendorSpec[] => [entry.vendor, ...entry.alternates];

/**
 * The rules across a function's vendors: an alternate is another vendor, each
 * vendor says how it is reached in the way its function needs, and only a
 * reachable vendor names credentials.
 */
export function serviceRules(services: ServicesSpec, ctx: z.RefinementCtx): void {
  for (const fn of serviceFunctions) {
    const entry = services[fn];
    if (!entry) continue;
    const at = (i: number): PropertyKey[] => (i === 0 ? ["services", fn, "vendor"] : ["services", fn, "alternates", i - 1]);
    const vendors = vendorsOf(entry);
    if (fn === "sms" && vendors.some((v) => !v.local)) {
      if (!entry.probeTo) ctx.addIssue({ code: "custom", path: ["services", fn, "probeTo"], message: "required when a vendor is a real one: the number `lifeboat services switch sms` sends its probe to (a phone the team watches)" });
      if (!entry.from) ctx.addIssue({ code: "custom", path: ["services", fn, "from"], message: "required when a vendor is a real one: the sender number or name every SMS vendor listed accepts (US numbers refuse letters)" });
    }
    if (entry.probeTo && !(switchableFunctions as readonly string[]).includes(fn)) {
      ctx.addIssue({ code: "custom", path: ["services", fn, "probeTo"], message: `only email and sms are switched and probed; ${fn} is not` });
    }
    vendors.forEach((vendor, i) => {
      if (i > 0 && vendor.name === entry.vendor.name) {
        ctx.addIssue({ code: "custom", path: [...at(i), "name"], message: `"${vendor.name}" is the vendor in use for ${fn}: an alternate must be another vendor (one that does not drop you with it)` });
      } else if (i > 0 && vendors.findIndex((v) => v.name === vendor.name) < i) {
        ctx.addIssue({ code: "custom", path: [...at(i), "name"], message: `duplicate ${fn} vendor "${vendor.name}"` });
      }
      vendorRules(fn, vendor, at(i), ctx);
    });
  }
}

function vendorRules(fn: ServiceFunction, vendor: VendorSpec, at: PropertyKey[], ctx: z.RefinementCtx): void {
  const issue = (field: string, message: string) => ctx.addIssue({ code: "custom", path: [...at, field], message });
  if (fn === "email" && !vendor.smtp) issue("smtp", "required for an email vendor: the SMTP relay the workload submits to (host, port, tls)");
  if (fn === "sms" && !vendor.sms) issue("sms", `required for an SMS vendor: its API's kind (${smsKinds.join(", ")}) and, unless the kind's public one, its url`);
  if (fn !== "email" && vendor.smtp) issue("smtp", `only email vendors have one; ${fn} is not email`);
  if (fn !== "sms" && vendor.sms) issue("sms", `only SMS vendors have one; ${fn} is not sms`);
  const reachable = Boolean(vendor.smtp ?? vendor.sms);
  if (!reachable) {
    if (vendor.local) issue("local", `only an email or SMS vendor can be a vendor of the local internet; Lifeboat does not run ${fn}`);
    if (vendor.credentials) issue("credentials", `Lifeboat does not call ${fn} vendors, so it keeps no credentials for them; remove the field`);
    return;
  }
  if (vendor.local) {
    if (vendor.smtp?.host) issue("smtp", "a vendor of the local internet says where it answers: remove host, or set local: false");
    if (vendor.sms?.url) issue("sms", "a vendor of the local internet says where it answers: remove url, or set local: false");
    if (vendor.credentials) issue("credentials", "a vendor of the local internet issues its own credentials: remove the field, or set local: false");
    return;
  }
  if (vendor.smtp && !vendor.smtp.host) issue("smtp", "host is required (the relay's name or address), unless the vendor is one of the local internet (local: true)");
  // Credentials cross the network with every message: never in the clear to a real vendor.
  if (vendor.smtp?.tls === "none") issue("smtp", 'tls: none would send the credentials in the clear; accepted for a real vendor: "starttls", "implicit"');
  if (vendor.sms?.url?.startsWith("http://")) issue("sms", "url: http:// would send the credentials in the clear; use https://");
  if (!vendor.credentials) issue("credentials", "required: the environment variables holding the username and password (credentials: { username: { env: NAME }, password: { env: NAME } })");
}
