/**
 * The drill on the local provider (ground.ts): the shipped lifeboat.yaml,
 * local-a active, failed over to local-b. The outage is one of three:
 * - clean: the host suspends local-a's account (its servers stop, its API
 *   refuses); the operator fails over and finds that out by itself.
 * - abrupt: a power cut, every process of local-a killed with SIGKILL at once;
 *   the operator fails over with --assume-gone, as the runbook for a host gone
 *   without notice says.
 * - partition: local-a's API cannot be reached from here, but its servers run
 *   on and serve the clients that still reach them (those whose resolver
 *   caches the old address) until they read the fence record; the operator
 *   fails over with --assume-gone.
 * The drill harness may reach into the local provider: it plays the host.
 */
import fs from "node:fs/promises";
import { OperationError } from "../../model/errors.ts";
import path from "node:path";
import { projectRoot } from "../../model/paths.ts";
import { activeSite, type SiteSpec, type Spec } from "../../model/spec/index.ts";
import { apiCallCount, partitionAccount, powerCutAccount } from "../../providers/local/account.ts";
import { dbServerName, serverAddress, serverDir } from "../../providers/local/layout.ts";
import { dbFiles, psql } from "../../providers/local/postgres.ts";
import { readRestoreRecord } from "../../providers/local/database.ts";
import { mibPerSecond, plainCopySpeed } from "./copy-speed.ts";
import type { DrillGround } from "./ground.ts";
import { drillTargets, type DrillOutage, type FenceAttempt, type RestoreFigures } from "./model.ts";
import { lifeboat, type DrillContext } from "./phases.ts";
import { round3 } from "./measure.ts";
import { drillSpec, requireSiteOn } from "./spec.ts";
import { assertLocalAddressesFree } from "./workspace.ts";
import { failureReason, postThrough, startWriteLoad } from "./write-load.ts";

const dbDir = (ctx: DrillContext, site: SiteSpec) => serverDir(ctx.ws.home, site.provider, dbServerName(site.name));

export function localGround(outage: DrillOutage = "clean"): DrillGround {
  let callsBefore = 0;
  return {
    on: "local",
    specText: async (mode) => drillSpec(await fs.readFile(path.join(projectRoot, "lifeboat.yaml"), "utf8"), mode, drillTargets.local),
    auditedUpFront: true,
    sites(spec: Spec) {
      const oldSite = requireSiteOn(spec, activeSite(spec).name, "an active site", "a local provider", (s) => s.provider.startsWith("local-"));
      const newSite = requireSiteOn(spec, drillTargets.local, "the site", "a local provider", (s) => s.provider.startsWith("local-"));
      return { oldSite, newSite, oldIngress: serverAddress(oldSite.provider, oldSite.index, 1), newIngress: serverAddress(newSite.provider, newSite.index, 1) };
    },
    assertFree: assertLocalAddressesFree,
    prepare: async () => undefined,
    sql: (ctx, site, query, timeoutMs) => psql(dbDir(ctx, site), query, { database: ctx.spec.database.name, timeoutMs }),
    startLoad: async (ctx, options) => startWriteLoad({ domain: ctx.spec.domain, ...options }),
    async startCounting(ctx) {
      callsBefore = apiCallCount(ctx.ws.home, ctx.oldSite.provider);
    },
    async outage(ctx) {
      if (outage === "abrupt") return (await powerCutAccount(ctx.ws.home, ctx.oldSite.provider)).at;
      if (outage === "partition") {
        const at = Date.now();
        await partitionAccount(ctx.ws.home, ctx.oldSite.provider);
        return at;
      }
      const commandAt = Date.now();
      await lifeboat(ctx, ["local", "suspend", ctx.oldSite.provider], 3 * 60_000);
      // The suspension is the moment the host cut the account off (its flag file), not the start of the
      // `lifeboat local suspend` process that plays the host (its Node startup before it acts).
      const flag = await fs.stat(path.join(ctx.ws.home, "local", ctx.oldSite.provider, "SUSPENDED")).catch(() => undefined);
      return flag ? Math.max(commandAt, flag.mtimeMs) : commandAt;
    },
    // A suspended account refuses calls: the failover finds that out by itself. After a power cut or behind a
    // partition the operator cannot tell a dead site from an unreachable one, and declares it gone.
    failoverFlags: outage === "clean" ? [] : ["--assume-gone"],
    async contacts(ctx) {
      return { count: apiCallCount(ctx.ws.home, ctx.oldSite.provider) - callsBefore, counted: `API calls to ${ctx.oldSite.provider}'s account (its call log)` };
    },
    async reinstate(ctx) {
      const resumed = await lifeboat(ctx, ["local", "resume", ctx.oldSite.provider], 5 * 60_000, true);
      return resumed.code === 0 ? { ok: true } : { ok: false, detail: resumed.stderr.trim().slice(-1_000) };
    },
    postToOldSite(ctx, author, body) {
      const via = `POST http://${ctx.oldIngress}/posts`;
      return postThrough(ctx.oldIngress, ctx.spec.domain, { author, body }, 2_000).then(
        (answer): FenceAttempt => ({ via, answer: answer.status === 201 ? `201 (post ${answer.id})` : `HTTP ${answer.status}`, accepted: answer.status === 201 }),
        (error: unknown): FenceAttempt => ({ via, answer: failureReason(error), accepted: false }),
      );
    },
    async restoreFigures(ctx): Promise<RestoreFigures> {
      const dir = dbDir(ctx, ctx.newSite);
      const record = await readRestoreRecord(dir);
      if (!record) throw new OperationError(`drill: ${ctx.newSite.name}'s db server kept no record of its restore (${dir}/restore.json)`);
      // The data directory less pg_wal: what pgBackRest wrote, without the segments written since (replay, new writes).
      const copy = await plainCopySpeed(dbFiles(dir).data, ["pg_wal"]);
      return {
        repository: `repo${record.repo} (${record.provider})`,
        bytes: record.bytes,
        files: record.files,
        seconds: round3(record.restoreSeconds),
        mibPerSecond: mibPerSecond(record.bytes, record.restoreSeconds),
        replaySeconds: record.startingAt && record.writableAt ? round3((Date.parse(record.writableAt) - Date.parse(record.startingAt)) / 1000) : null,
        copy,
      };
    },
    cleanup: async () => [],
  };
}
