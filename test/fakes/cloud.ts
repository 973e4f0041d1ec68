/**
 * What the clouds would compute, for Pulumi mocks: public addresses, name
 * servers, ids. Deterministic, so resource graphs can be compared with golden files.
 */
import type { MockOptions } from "./pulumi.ts";

let counter = 0;
const nextAddress = () => `198.51.100.${(counter++ % 250) + 1}`;

/** Outputs per resource type that programs read back (addresses, name servers). */
/** The nameservers each cloud DNS vendor assigns a zone, as the mocks answer (Hetzner's with the final dot, as its API gives them). */
export const assignedNameservers = {
  route53: ["ns-1.awsdns-01.org", "ns-2.awsdns-02.net"],
  hcloud: ["hydrogen.ns.hetzner.com.", "oxygen.ns.hetzner.com."],
  cloudflare: ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
} as const;

export const cloudOutputs: NonNullable<MockOptions["outputs"]> = ({ type, name, inputs }) => {
  switch (type) {
    case "aws:ec2/eip:Eip":
      return { publicIp: nextAddress(), allocationId: `eipalloc-${name}` };
    case "aws:ec2/instance:Instance":
      return { publicIp: nextAddress(), arn: `arn:aws:ec2:::instance/${name}` };
    case "aws:s3/bucket:Bucket":
      return { arn: `arn:aws:s3:::${inputs.bucket}` };
    case "aws:iam/accessKey:AccessKey":
      return { secret: fakeSecrets.awsSecretAccessKey(name) };
    case "cloudflare:index/apiToken:ApiToken":
      return { value: fakeSecrets.cloudflareTokenValue(name), status: "active" };
    case "aws:route53/zone:Zone":
      return { zoneId: `Z${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`, nameServers: [...assignedNameservers.route53] };
    case "hcloud:index/primaryIp:PrimaryIp":
      return { ipAddress: nextAddress() };
    case "hcloud:index/server:Server":
      return { ipv4Address: nextAddress() };
    case "hcloud:index/zone:Zone":
      return { authoritativeNameservers: { assigneds: [...assignedNameservers.hcloud] } };
    case "pulumi-nodejs:dynamic/lifeboat:local:Bucket:Resource":
      return { path: `/h/local/${inputs.provider}/buckets/${inputs.name}` };
    case "cloudflare:index/zone:Zone":
      return { nameServers: [...assignedNameservers.cloudflare] };
    case hostKeyResourceType:
      return fakeHostKey(String(inputs.comment));
    default:
      return undefined;
  }
};

/** The engine's type token of Lifeboat's host-key resource (providers/shared/host-key.ts). */
export const hostKeyResourceType = "pulumi-nodejs:dynamic/lifeboat:cloud:HostKey:Resource";

/** What ssh-keygen would make for a server, recognisably fake: tests look for the private half wherever it must not be. */
export function fakeHostKey(server: string) {
  return {
    publicKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(server).toString("base64").replace(/=+$/, "")} ${server}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${fakeHostKeyMarker}${server}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}
/** Text found only in a fake private host key. */
export const fakeHostKeyMarker = "fake-private-host-key-of-";

/**
 * The secrets the clouds would hand out (an IAM access key's secret, a
 * Cloudflare token's value), recognisable so tests can look for them
 * anywhere they must not be.
 */
export const fakeSecrets = {
  awsSecretAccessKey: (name: string) => `aws-secret-access-key-of-${name}`,
  cloudflareTokenValue: (name: string) => `cloudflare-token-value-of-${name}`,
};

/** Cloudflare's permission group for R2 object read and write (its real id). */
export const r2ObjectWriteGroup = { id: "2efd5506f9c8494dacb1fa10a3e7d5b6", name: "Workers R2 Storage Bucket Item Write", scopes: ["com.cloudflare.edge.r2.bucket"], category: "developer_platform", isSelectable: true };

/** Provider functions the programs call. */
export const cloudCalls: NonNullable<MockOptions["calls"]> = (token, inputs) => {
  if (token === "aws:ec2/getAmi:getAmi") return { ...inputs, id: "ami-0debian12", imageId: "ami-0debian12", name: "debian-12-amd64-20261101" };
  if (token === "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList") {
    // The API filters by the URL-encoded name and scope it is given.
    const matches = decodeURIComponent(String(inputs.name ?? "")) === r2ObjectWriteGroup.name && decodeURIComponent(String(inputs.scope ?? "")) === r2ObjectWriteGroup.scopes[0];
    return { ...inputs, results: matches ? [r2ObjectWriteGroup] : [] };
  }
  return undefined;
};

/** Hetzner's ids are numbers; a stable one per resource name keeps golden files stable. */
export const cloudIds: NonNullable<MockOptions["id"]> = ({ type, name }) =>
  type.startsWith("hcloud:") ? String([...name].reduce((hash, c) => (hash * 31 + c.charCodeAt(0)) % 9_000_000, 7) + 1_000_000) : undefined;

export const cloudMocks: MockOptions = { id: cloudIds, outputs: cloudOutputs, calls: cloudCalls };
