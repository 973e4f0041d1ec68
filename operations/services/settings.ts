/**
 * What every app server gets to send email and SMS: each vendor of
 * lifeboat.yaml's `services.email` and `services.sms` (the one in use and the
 * alternates), with where it answers and its credentials. It is written into
 * each site's stack as one Pulumi secret (lifeboat:services), which the stack
 * hands to the app servers; the shape is the workload's (workload/services.ts,
 * pinned by test/unit/services.test.ts).
 *
 * Credentials come from the environment variables lifeboat.yaml names; a
 * variable that is not set falls back to the value an earlier deploy kept in
 * this stack or the active site's, so a failover at night needs none set.
 * Vendors of the local internet say their own address and credentials.
 */
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { UserError } from "../../model/errors.ts";
import { configKeys, siteStackName } from "../../model/names.ts";
import { activeSite, switchableFunctions, vendorsOf, type Spec, type SwitchableFunction, type VendorSpec } from "../../model/spec/index.ts";
import { smsDefaultUrls } from "../../model/spec/services.ts";
import type { LocalVendorEndpoint, LocalVendors } from "../../providers/types.ts";
import type { Platform } from "../platform.ts";
import { decryptedConfig, type ConfigWriter, type DecryptedConfig } from "../data.ts";
import { openPlatformStack, readStackConfig } from "../stacks.ts";

export type SmtpVendorSettings = { kind: "smtp"; host: string; port: number; tls: "starttls" | "implicit" | "none"; username: string; password: string };
export type SmsVendorSettings = { kind: "twilio" | "vonage"; url: string; username: string; password: string };
export interface FunctionSettings<V> {
  from: string;
  inUse: string;
  vendors: Record<string, V>;
}
export interface ServicesSettings {
  domain: string;
  email?: FunctionSettings<SmtpVendorSettings>;
  sms?: FunctionSettings<SmsVendorSettings>;
}

const servicesKey = `lifeboat:${configKeys.services}`;

/** The functions lifeboat.yaml gives a vendor Lifeboat delivers through. */
export const deliveredFunctions = (spec: Spec): SwitchableFunction[] => switchableFunctions.filter((fn) => spec.services[fn]);

/** The settings kept in a stack, or undefined (none kept, or not readable as settings). */
export async function keptSettings(stack: Stack, current: DecryptedConfig = decryptedConfig(stack)): Promise<ServicesSettings | undefined> {
  const config = await readStackConfig(stack);
  if (config[servicesKey] === undefined) return undefined;
  const value = (await current())[servicesKey]?.value;
  try {
    return value === undefined ? undefined : (JSON.parse(value) as ServicesSettings);
  } catch {
    return undefined;
  }
}

export interface SettingsSources {
  env: NodeJS.ProcessEnv;
  /** The local internet's vendors; `start` false reads them without starting any (a diff). */
  localVendors?: LocalVendors;
  start: boolean;
  /** Settings kept by earlier deploys (this stack's first, then the active site's), read only when a variable is not set. */
  kept: Array<() => Promise<ServicesSettings | undefined>>;
}

/** The settings for the spec's vendors, or undefined when it lists no email or SMS vendor. */
export async function servicesSettings(spec: Spec, sources: SettingsSources): Promise<ServicesSettings | undefined> {
  const functions = deliveredFunctions(spec);
  if (functions.length === 0) return undefined;
  const locals = functions.flatMap((fn) => vendorsOf(spec.services[fn]!).filter((v) => v.local).map((v) => ({ name: v.name, kind: localKind(v) })));
  let endpoints: LocalVendorEndpoint[] = [];
  if (locals.length) {
    if (!sources.localVendors) throw new UserError(`services: ${locals.map((v) => v.name).join(", ")} are vendors of the local internet, which this machine does not run`);
    endpoints = sources.start ? await sources.localVendors.ensure(locals) : (await Promise.all(locals.map((v) => sources.localVendors!.endpoint(v.name)))).filter((e): e is LocalVendorEndpoint => e !== undefined);
  }
  const settings: ServicesSettings = { domain: spec.domain };
  for (const fn of functions) {
    const entry = spec.services[fn]!;
    const vendors: Record<string, SmtpVendorSettings | SmsVendorSettings> = {};
    for (const [i, vendor] of vendorsOf(entry).entries()) {
      const where = `services.${fn}.${i === 0 ? "vendor" : `alternates[${i - 1}]`}`;
      const resolved = vendor.local ? endpoints.find((e) => e.name === vendor.name) : await remoteVendor(fn, vendor, where, sources);
      // A diff before the first deploy: the local vendor does not exist yet, and deploy will make it.
      if (resolved) vendors[vendor.name] = toVendor(fn, resolved);
    }
    const from = entry.from ?? (fn === "email" ? `no-reply@${spec.domain}` : spec.domain.split(".")[0]!);
    (settings as unknown as Record<string, FunctionSettings<unknown>>)[fn] = { from, inUse: entry.vendor.name, vendors };
  }
  return settings;
}

function localKind(vendor: VendorSpec): LocalVendorEndpoint["kind"] {
  return vendor.smtp ? "smtp" : vendor.sms!.kind;
}

function toSms(e: LocalVendorEndpoint | SmsVendorSettings): SmsVendorSettings {
  return { kind: e.kind as SmsVendorSettings["kind"], url: e.url!, username: e.username, password: e.password };
}

function toVendor(fn: SwitchableFunction, e: LocalVendorEndpoint | SmtpVendorSettings | SmsVendorSettings): SmtpVendorSettings | SmsVendorSettings {
  if (fn === "sms") return toSms(e as SmsVendorSettings);
  const smtp = e as SmtpVendorSettings;
  return { kind: "smtp", host: smtp.host, port: smtp.port, tls: smtp.tls, username: smtp.username, password: smtp.password };
}

async function remoteVendor(fn: SwitchableFunction, vendor: VendorSpec, where: string, sources: SettingsSources): Promise<SmtpVendorSettings | SmsVendorSettings> {
  const credential = async (field: "username" | "password") => {
    const variable = vendor.credentials![field].env;
    const fromEnv = sources.env[variable];
    if (fromEnv) return fromEnv;
    for (const read of sources.kept) {
      const kept = await read();
      const value = (kept?.[fn]?.vendors[vendor.name] as { username?: string; password?: string } | undefined)?.[field];
      if (value) return value;
    }
    throw new UserError(
      `${where}.credentials.${field}: the environment variable ${variable} is not set, and no earlier deploy kept a value for ${vendor.name}`,
      `export ${variable} (the ${vendor.name} ${fn} ${field}) and run the command again; Lifeboat keeps it as a Pulumi secret from then on`,
    );
  };
  const [username, password] = [await credential("username"), await credential("password")];
  if (vendor.smtp) return { kind: "smtp", host: vendor.smtp.host!, port: vendor.smtp.port, tls: vendor.smtp.tls, username, password };
  const sms = vendor.sms!;
  return { kind: sms.kind, url: sms.url ?? smsDefaultUrls[sms.kind], username, password };
}

/**
 * Writes the settings into a site's stack (touching it only when they
 * changed), or removes them when lifeboat.yaml lists no such vendor.
 */
export async function applyServicesConfig(platform: Platform, stack: Stack, options: { start: boolean; current?: DecryptedConfig; writes?: ConfigWriter }): Promise<void> {
  const current = options.current ?? decryptedConfig(stack);
  const here = await keptSettings(stack, current);
  const activeName = siteStackName(activeSite(platform.spec).name);
  const active = async () => (stack.name === activeName ? undefined : keptSettings(await openPlatformStack(platform, activeName)).catch(() => undefined));
  // lifeboat.yaml as written: its vendor in use only seeds the database's choice, and a switch must not change
  // what app servers are given (on the clouds that is their user-data: a change replaces them).
  const wanted = await servicesSettings(platform.declaredSpec, { env: process.env, ...(platform.localVendors ? { localVendors: platform.localVendors } : {}), start: options.start, kept: [async () => here, active] });
  if (!wanted) {
    if (here !== undefined) await stack.removeConfig(servicesKey);
    return;
  }
  if (JSON.stringify(here) !== JSON.stringify(wanted)) await (options.writes ?? stack).setConfig(servicesKey, { value: JSON.stringify(wanted), secret: true });
}
