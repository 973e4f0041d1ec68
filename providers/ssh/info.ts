/**
 * An `ssh` provider: servers that already exist (bare metal, any VPS company),
 * handed over with SSH access, the way Parler's next host handed over its
 * servers. A platform defines one per company in lifeboat.yaml's `providers:`
 * (kind: ssh) and lists each site's servers; Lifeboat bootstraps them with the
 * same cloud-init user-data the clouds get, through their own cloud-init.
 */
import type { ProviderDefinition } from "../../model/spec/index.ts";
import { can, cannot, type ProviderInfo } from "../types.ts";

export type SshDefinition = Extract<ProviderDefinition, { kind: "ssh" }>;

export function sshProviderInfo(name: string, definition: SshDefinition): ProviderInfo {
  return {
    name,
    vendor: definition.vendor ?? `${name} (servers reached over SSH)`,
    capabilities: {
      compute: can("the servers a site lists (sites[].servers), bootstrapped over SSH by their own cloud-init from the shared user-data; an nftables host firewall, since there is no firewall API"),
      dns: cannot("an ssh provider has servers only; serve the domain from a DNS provider"),
      objectStore: cannot("an ssh provider has servers only; put backups on an objectStore provider (s3, aws, cloudflare)"),
    },
    features: {
      referenceWorkload: can("the reference service bundled into the app servers' user-data, run by Debian's Node.js under systemd"),
      imageWorkload: can("podman under systemd on each app server (the servers install it from Debian's mirror at bootstrap)"),
      proxiedRecords: cannot("not a DNS provider"),
      aliasRecords: cannot("not a DNS provider"),
    },
    // Whatever the servers are: lifeboat.yaml's sizes and regions mean nothing here.
    sizes: { small: "as provided", medium: "as provided", large: "as provided" },
    maxAppServers: 250,
    credentials: definition.identityFile
      ? []
      : [{ env: "LIFEBOAT_SSH_KEY", orEnv: ["SSH_AUTH_SOCK"], what: `the private key Lifeboat logs in to ${name}'s servers with (a file; or an SSH agent; or identityFile in lifeboat.yaml's providers.${name})` }],
    local: false,
  };
}

