/**
 * What the clouds would compute, for Pulumi mocks: public addresses, name
 * servers, ids. Deterministic, so resource graphs can be compared with golden files.
 */
import type { MockOptions } from "./pulumi.ts";

let counter = 0;
const nextAddress = () => `198.51.100.${(counter++ % 250) + 1}`;

/** Outputs per resource type that programs read back (addresses, name servers). */
export const cloudOutputs: NonNullable<MockOptions["outputs"]> = ({ type, name, inputs }) => {
  switch (type) {
    case "aws:ec2/eip:Eip":
      return { publicIp: nextAddress(), allocationId: `eipalloc-${name}` };
    case "aws:ec2/instance:Instance":
      return { publicIp: nextAddress(), arn: `arn:aws:ec2:::instance/${name}` };
    case "aws:route53/zone:Zone":
      return { zoneId: `Z${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`, nameServers: ["ns-1.awsdns-01.org", "ns-2.awsdns-02.net"] };
    case "hcloud:index/primaryIp:PrimaryIp":
      return { ipAddress: nextAddress() };
    case "hcloud:index/server:Server":
      return { ipv4Address: nextAddress() };
    case "hcloud:index/zone:Zone":
      return { authoritativeNameservers: { assigneds: ["hydrogen.ns.hetzner.com.", "oxygen.ns.hetzner.com."] } };
    case "pulumi-nodejs:dynamic/lifeboat:local:Bucket:Resource":
      return { path: `/h/local/${inputs.provider}/buckets/${inputs.name}` };
    case "cloudflare:index/zone:Zone":
      return { nameServers: ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"] };
    default:
      return undefined;
  }
};

/** Provider functions the programs call. */
export const cloudCalls: NonNullable<MockOptions["calls"]> = (token, inputs) => {
  if (token === "aws:ec2/getAmi:getAmi") return { ...inputs, id: "ami-0debian12", imageId: "ami-0debian12", name: "debian-12-amd64-20261101" };
  return undefined;
};

/** Hetzner's ids are numbers; a stable one per resource name keeps golden files stable. */
export const cloudIds: NonNullable<MockOptions["id"]> = ({ type, name }) =>
  type.startsWith("hcloud:") ? String([...name].reduce((hash, c) => (hash * 31 + c.charCodeAt(0)) % 9_000_000, 7) + 1_000_000) : undefined;

export const cloudMocks: MockOptions = { id: cloudIds, outputs: cloudOutputs, calls: cloudCalls };
