/** What the kernel says of a process (Linux's /proc): shared by the platform lock and the local provider's supervisors. */
import fsSync from "node:fs";

/** A process as the kernel describes it: its state letter and its start time (Linux's /proc); undefined when it does not exist. */
export function processIdentity(pid: number): { state: string; started: number } | undefined | "unknown" {
  let stat: string;
  try {
    stat = fsSync.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return fsSync.existsSync("/proc/self/stat") ? undefined : "unknown";
    return "unknown";
  }
  // The command name (field 2) is in parentheses and may hold spaces: the fields after its last ")" are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, started: Number(fields[19]) };
}

/**
 * Whether `pid` names a running process: not gone, and not a zombie (one that
 * exited and was not reaped still answers signal 0, and a killed server's
 * processes may wait a while for their reaper).
 */
export function processRuns(pid: number): boolean {
  const identity = processIdentity(pid);
  if (identity === undefined) return false;
  if (identity !== "unknown") return identity.state !== "Z" && identity.state !== "X";
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
