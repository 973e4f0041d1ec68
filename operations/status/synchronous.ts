/**
 * `lifeboat status` on synchronous replication: which mode lifeboat.yaml asks
 * for against what the primary runs with, and the loud warning when commits
 * wait. In synchronous mode a commit returns only once the standby named in
 * synchronous_standby_names has its WAL; with that standby away, writes wait
 * (PostgreSQL's own behaviour, which Lifeboat keeps: no write is acknowledged
 * that a failover could lose), so status says so first and says how out.
 */
import type { ReplicationMode, SiteSpec } from "../../model/spec/index.ts";
import type { PrimaryReplication } from "./model.ts";

export interface SynchronousFacts {
  mode: ReplicationMode;
  /** The site whose database is the primary, and what it reported; undefined when no primary answered. */
  primary?: { name: string; replication: PrimaryReplication };
  /** lifeboat.yaml's standby site, if any. */
  standby?: Pick<SiteSpec, "name" | "provider">;
}

/** synchronous_standby_names as the primary runs it: "" (asynchronous) or a quoted application_name. */
const waitsFor = (names: string) => names.replace(/^"(.*)"$/, "$1");

export function synchronousWarnings({ mode, primary, standby }: SynchronousFacts): string[] {
  const sync = primary?.replication.synchronous;
  // An on-server command older than synchronous replication reports nothing to compare.
  if (!primary || !sync) return [];
  const named = waitsFor(sync.standbyNames);
  if (mode === "asynchronous") {
    return named
      ? [`site ${primary.name}'s commits wait for the standby ${named} (synchronous_standby_names), though lifeboat.yaml says database.replication: asynchronous: run lifeboat deploy to apply it`]
      : [];
  }
  if (!named) {
    return [
      `database.replication is synchronous but site ${primary.name}'s commits wait for no standby: a write acknowledged now can be lost in a failover; run lifeboat deploy${standby ? ` --site ${standby.name}` : ""} (it names the standby once it streams)`,
    ];
  }
  const attached = primary.replication.standbys.find((p) => p.applicationName === named && p.syncState === "sync");
  if (attached) return [];
  const listed = primary.replication.standbys.find((p) => p.applicationName === named);
  const why = listed ? `it is ${listed.state}, sync_state ${listed.syncState}` : "it is not connected";
  const where = standby ? `standby ${standby.name} (${named})` : `standby ${named}`;
  return [
    `WRITES WAIT on ${primary.name}: database.replication is synchronous and ${where} is not attached as sync (${why}); ${sync.waiting} commit(s) waiting now, and every new write waits too, unacknowledged, until it streams again. ` +
      `Get out by bringing it back${standby ? ` (lifeboat status for ${standby.name}; lifeboat local resume ${standby.provider} if its provider is suspended)` : ""}, ` +
      `or by accepting asynchronous replication for now (database.replication: asynchronous in lifeboat.yaml, then lifeboat deploy: the waiting writes complete), or by failing over if it is ${primary.name} that is in trouble`,
  ];
}
