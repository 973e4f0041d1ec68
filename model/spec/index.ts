/** lifeboat.yaml as the rest of Lifeboat sees it: its schema, its rules, and how it is read. */
export { providerKinds, recordTypes, replicationModes, serverRoles, siteRoles, sizes, specFields, type ReplicationMode, type ServerRole } from "./schema.ts";
export { formatPath, loadSpec, parseSpec, SpecError, specSchema, type EdgeSpec, type SiteSpec, type Spec, type SpecAudit } from "./load.ts";
export { serviceFunctions, smsKinds, switchableFunctions, vendorsOf, type ServiceFunction, type ServiceSpec, type SmsKind, type SwitchableFunction, type VendorSpec } from "./services.ts";
import type { SiteSpec, Spec } from "./load.ts";

export const activeSite = (spec: Spec): SiteSpec => spec.sites.find((s) => s.role === "active")!;

export type ProviderDefinition = Spec["providers"][string];
export type ServerSpec = NonNullable<SiteSpec["servers"]>[number];
