/**
 * Record values in the form Hetzner's Cloud API stores them (zone-file syntax).
 *
 * TXT: the hcloud_zone_rrset documentation says a TXT value "must consist of one
 * or many quoted strings of 255 characters", and the provider's txt_record
 * helper (hcloud-go's zoneutil.FormatTXTRecord) escapes every `"` as `\"`, then
 * cuts the result into chunks of 255 bytes, each wrapped in quotes and joined by
 * a space: `v=spf1 mx -all` becomes `"v=spf1 mx -all"`. That helper is a
 * provider function (a call at run time); formatting here gives the same string
 * without one. lifeboat.yaml holds TXT values unquoted, as every provider reads them.
 *
 * MX, CAA, CNAME and the addresses are already in zone-file form in lifeboat.yaml
 * (`10 mail.social.example.`, `0 issue "letsencrypt.org"`) and pass unchanged.
 */
import { splitUtf8, type ServiceRecord } from "../shared/records.ts";

/** hcloud's txt_record: quotes escaped, 255-byte chunks, each quoted. A chunk never splits a UTF-8 character. */
export function hetznerTxtValue(value: string): string {
  if (value === "") return "";
  return splitUtf8(value.replaceAll('"', '\\"')).map((p) => `"${p}"`).join(" ");
}

/** The `records` of a record set: one { value } per value, TXT values quoted as Hetzner expects. */
export function hetznerRecords(record: Pick<ServiceRecord, "type" | "values">): Array<{ value: string }> {
  return record.values.map((value) => ({ value: record.type === "TXT" ? hetznerTxtValue(value) : value }));
}
