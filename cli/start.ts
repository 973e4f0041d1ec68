/**
 * What `lifeboat` runs, from the sources or compiled (cli/bin.mjs picks): a
 * platform reached from a network namespace (lifeboat machines) is run in
 * there, anything else by the command line in index.ts.
 */
import { keepGoingWhenReadersLeave } from "./io.ts";
import { enterPlatformNetns } from "./netns.ts";

export async function start(argv: string[]): Promise<number> {
  keepGoingWhenReadersLeave();
  const entered = await enterPlatformNetns(argv, (line) => process.stderr.write(`${line}\n`));
  if (entered !== undefined) return entered;
  const { main } = await import("./index.ts");
  return main(argv);
}
