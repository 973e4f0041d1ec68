/** A small client for the PowerDNS Authoritative HTTP API (v1), as the local DNS provider uses it. */

export interface RecordSet {
  /** Fully qualified, with the trailing dot: "www.social.test." */
  name: string;
  type: string;
  ttl: number;
  values: string[];
}

interface ApiRrset {
  name: string;
  type: string;
  ttl: number;
  records: Array<{ content: string; disabled: boolean }>;
}

export const fqdn = (name: string) => (name.endsWith(".") ? name : `${name}.`);

/** The zone's id in API paths: its name, except the root zone's (PowerDNS escapes a lone dot). */
const zoneId = (zone: string) => (fqdn(zone) === "." ? "=2E" : fqdn(zone));

export class PowerDnsApi {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await fetch(`${this.baseUrl}/api/v1/servers/localhost${path}`, {
      method,
      headers: { "X-API-Key": this.apiKey, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok && response.status !== 404) {
      throw new Error(`PowerDNS ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    }
    return response;
  }

  async ensureZone(zone: string): Promise<void> {
    if ((await this.call("GET", `/zones/${zoneId(zone)}`)).status !== 404) return;
    await this.call("POST", "/zones", { name: fqdn(zone), kind: "Native", nameservers: [] });
  }

  /** Sets every given record set, and deletes those in `previous` that are no longer given. */
  async replaceRecords(zone: string, records: RecordSet[], previous: RecordSet[]): Promise<void> {
    const key = (r: RecordSet) => `${fqdn(r.name)} ${r.type}`;
    const kept = new Set(records.map(key));
    const rrsets = [
      ...records.map((r) => ({
        name: fqdn(r.name),
        type: r.type,
        ttl: r.ttl,
        changetype: "REPLACE",
        records: r.values.map((content) => ({ content, disabled: false })),
      })),
      ...previous.filter((r) => !kept.has(key(r))).map((r) => ({ name: fqdn(r.name), type: r.type, changetype: "DELETE" })),
    ];
    await this.call("PATCH", `/zones/${zoneId(zone)}`, { rrsets });
  }

  /** The zone's current values of the record sets we manage; undefined when the zone is gone. */
  async readRecords(zone: string, managed: RecordSet[]): Promise<RecordSet[] | undefined> {
    const response = await this.call("GET", `/zones/${zoneId(zone)}`);
    if (response.status === 404) return undefined;
    const { rrsets } = (await response.json()) as { rrsets: ApiRrset[] };
    return managed.flatMap((wanted) => {
      const found = rrsets.find((r) => r.name === fqdn(wanted.name) && r.type === wanted.type);
      if (!found) return [];
      return [{ name: wanted.name, type: found.type, ttl: found.ttl, values: found.records.filter((x) => !x.disabled).map((x) => x.content).sort() }];
    });
  }

  /** Every record set the zone holds; undefined when the zone is gone. */
  async listRecords(zone: string): Promise<RecordSet[] | undefined> {
    const response = await this.call("GET", `/zones/${zoneId(zone)}`);
    if (response.status === 404) return undefined;
    const { rrsets } = (await response.json()) as { rrsets: ApiRrset[] };
    return rrsets.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, values: r.records.filter((x) => !x.disabled).map((x) => x.content).sort() }));
  }

  async deleteZone(zone: string): Promise<void> {
    await this.call("DELETE", `/zones/${zoneId(zone)}`);
  }
}
