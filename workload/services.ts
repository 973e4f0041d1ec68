/**
 * The outside vendors the reference service sends through, as the site's stack
 * gives them to each app server: LIFEBOAT_SERVICES, base64 of a JSON object
 * holding every email and SMS vendor of lifeboat.yaml (the one in use and the
 * alternates) with its credentials. Which vendor is in use is decided in the
 * database (service_vendors), so `lifeboat services switch` reaches every app
 * server at once, and a failover keeps the choice with the data; the `inUse`
 * here only seeds that table the first time.
 */
export type SmtpVendor = { kind: "smtp"; host: string; port: number; tls: "starttls" | "implicit" | "none"; username: string; password: string };
export type SmsVendor = { kind: "twilio" | "vonage"; url: string; username: string; password: string };
export interface FunctionSettings<V> {
  /** The sender: an address for email, a number or name for SMS. */
  from: string;
  inUse: string;
  vendors: Record<string, V>;
}
export interface ServicesSettings {
  /** Message-IDs are made under it. */
  domain: string;
  email?: FunctionSettings<SmtpVendor>;
  sms?: FunctionSettings<SmsVendor>;
}
export type MessageFunction = "email" | "sms";
export const messageFunctions: MessageFunction[] = ["email", "sms"];

export const servicesEnvName = "LIFEBOAT_SERVICES";

export function encodeServices(settings: ServicesSettings): string {
  return Buffer.from(JSON.stringify(settings)).toString("base64");
}

/** The settings in the environment, or undefined when the platform lists no email or SMS vendor. A malformed value stops the server: sending through half a vendor is worse. */
export function servicesFromEnv(env: NodeJS.ProcessEnv = process.env): ServicesSettings | undefined {
  const raw = env[servicesEnvName];
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, "base64").toString("utf8"));
  } catch {
    throw new Error(`${servicesEnvName} is not base64 of a JSON object`);
  }
  const settings = value as ServicesSettings;
  if (typeof settings?.domain !== "string") throw new Error(`${servicesEnvName}.domain must be a string`);
  for (const fn of messageFunctions) {
    const entry = settings[fn];
    if (entry === undefined) continue;
    if (typeof entry.from !== "string" || typeof entry.inUse !== "string" || typeof entry.vendors !== "object" || !entry.vendors[entry.inUse]) {
      throw new Error(`${servicesEnvName}.${fn} must give from, inUse and vendors holding the one in use`);
    }
  }
  return settings;
}
