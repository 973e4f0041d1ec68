/**
 * Before a resumed run goes on, what its earlier steps produced must still
 * hold: once the data step has promoted (or restored) the target's database,
 * that database must still be that one (the same system identifier and
 * timeline the data step recorded) and hold at least the recorded position.
 * A run whose target was destroyed and rebuilt meanwhile would otherwise
 * point DNS at an empty site and report success.
 */
import { OperationError } from "../../model/errors.ts";
import { lsnValue } from "../site/postgres.ts";
import { commandFailure } from "../site/server-command.ts";
import { stepRecord } from "./journal.ts";
import { siteControl, type Run } from "./run.ts";

export async function checkResumedData(run: Run): Promise<string | undefined> {
  const { journal, to } = run;
  const recorded = journal.facts.dataPosition;
  if (stepRecord(journal, "data")?.status !== "done" || !recorded) return undefined;
  const stop = (why: string) =>
    new OperationError(
      `failover run ${journal.run} cannot resume: ${why}, so it is not the database this run ${journal.options.mode === "warm" ? "promoted" : "restored"}; no step after it was run again`,
      `find out what happened to ${to.name} (lifeboat status); the run's journal is .lifeboat/runs/${journal.run}.json`,
    );
  const now = await siteControl(run, to, journal.facts.targetHosts).postgres.position().catch((error: unknown) => {
    throw stop(`${to.name}'s database does not answer (${commandFailure(error)})`);
  });
  if (recorded.systemIdentifier && now.systemIdentifier !== recorded.systemIdentifier) {
    throw stop(`${to.name}'s database is another cluster now (system identifier ${now.systemIdentifier ?? "unknown"}, recorded ${recorded.systemIdentifier})`);
  }
  if (recorded.timeline !== undefined && now.timeline !== recorded.timeline) {
    throw stop(`${to.name}'s database is on timeline ${now.timeline ?? "unknown"}, the run recorded ${recorded.timeline}`);
  }
  if (!now.writable) throw stop(`${to.name}'s database is not writable any more`);
  if (recorded.lsn && (!now.lsn || lsnValue(now.lsn) < lsnValue(recorded.lsn))) {
    throw stop(`${to.name}'s database is at ${now.lsn ?? "no position"}, behind the ${recorded.lsn} the run recorded`);
  }
  return `${to.name}'s database is still the one this run promoted (system identifier ${now.systemIdentifier}, timeline ${now.timeline}, at ${now.lsn} >= ${recorded.lsn})`;
}
