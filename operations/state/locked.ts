/** The state commands that change the state or its mirrors, under the platform lock (a deploy half-way would be mirrored half-done). */
import { lockFile } from "../deploy.ts";
import { withFileLock } from "../lock.ts";
import type { Platform } from "../platform.ts";
import { mirrorState, type MirrorWrite } from "./mirror.ts";
import { recoverState, type RecoverOptions, type RecoverResult } from "./recover.ts";
import { engineStateSource } from "./source.ts";

export const mirrorNow = (platform: Platform, print: (line: string) => void): Promise<MirrorWrite[]> =>
  withFileLock(lockFile(platform), "state mirror", () => mirrorState(platform, "lifeboat state mirror", engineStateSource, print), { wait: false });

export const recoverStateLocked = (platform: Platform, options: RecoverOptions, print: (line: string) => void): Promise<RecoverResult> =>
  options.list ? recoverState(platform, options, print) : withFileLock(lockFile(platform), "state recover", () => recoverState(platform, options, print), { wait: false });
