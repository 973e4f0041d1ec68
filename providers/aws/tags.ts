/** Names, tags and descriptions as AWS accepts them. */
import type { SiteSpec } from "../../model/spec/index.ts";

/** Tags on every resource of a site: its Name in the console, and the site it belongs to. */
export const siteTags = (site: Pick<SiteSpec, "name">, name: string, extra: Record<string, string> = {}): Record<string, string> => ({
  Name: name,
  "lifeboat-site": site.name,
  ...extra,
});

/**
 * A security group's or rule's description in the characters EC2 accepts
 * (a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=;{}!$*, at most 255): the shared
 * rule descriptions are English ("the site's app servers"), the API refuses the apostrophe.
 */
export function awsDescription(text: string): string {
  return text
    .replace(/'/g, "")
    .replace(/&/g, " and ")
    .replace(/[^a-zA-Z0-9 ._\-:/()#,@[\]+=;{}!$*]/g, " ")
    .replace(/ {2,}/g, " ")
    .trim()
    .slice(0, 255);
}
