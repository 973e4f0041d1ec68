/** The Cloudflare account every zone and bucket is created in. */
import { accountIdEnv } from "./info.ts";

/**
 * The account id, read from the environment when the program runs (the CLI's
 * preflight checks it is set before the engine starts; `pulumi up` run by hand
 * gets this error instead). Cloudflare ids are 32 hexadecimal digits.
 */
export function cloudflareAccountId(env: NodeJS.ProcessEnv = process.env): string {
  const id = env[accountIdEnv]?.trim();
  if (!id) {
    throw new Error(`${accountIdEnv} is not set: the Cloudflare account id the zone and buckets belong to (dashboard, Account home, "Account ID")`);
  }
  if (!/^[0-9a-f]{32}$/i.test(id)) {
    throw new Error(`${accountIdEnv} is "${id}", not a Cloudflare account id (32 hexadecimal digits)`);
  }
  return id.toLowerCase();
}
