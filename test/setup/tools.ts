/**
 * Tools the tests judge the project's own files with: actionlint, for the
 * GitHub workflows, built once per machine from the Go module proxy (no
 * prebuilt binary is downloaded) and cached outside the repository; and
 * Debian's Chromium, which renders the drill's HTML report, installed with
 * apt-get when the tests run as root and it is missing.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const actionlintVersion = "v1.7.12";
const toolsDir = () => path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "lifeboat", "tools");
/** Where the tests find actionlint once this setup has run. */
export const actionlintPath = () => path.join(toolsDir(), `actionlint-${actionlintVersion}`, "actionlint");

/** Where Debian's Chromium is, if it is installed. */
export const chromiumPath = () => ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((candidate) => fs.existsSync(candidate));

/** Once per machine, as root; a failure is said and left to the one test that needs Chromium, not to every test. */
async function installChromium() {
  if (chromiumPath() || process.getuid?.() !== 0) return;
  console.error("[lifeboat] installing Debian's chromium (the drill report's test renders in it)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    await run("apt-get", ["update", "-qq"], { env, timeout: 10 * 60_000 });
    await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], { env, timeout: 15 * 60_000 });
  } catch (error) {
    console.error(`[lifeboat] chromium could not be installed (${(error as Error).message.split("\n")[0]}): the drill report's browser test will fail until it is`);
  }
}

export default async function setup() {
  await installChromium();
  if (fs.existsSync(actionlintPath())) return;
  const go = ["/usr/local/go/bin/go", "go"].find((candidate) => candidate === "go" || fs.existsSync(candidate))!;
  const dir = path.dirname(actionlintPath());
  const staging = `${dir}.partial-${process.pid}`;
  console.error(`[lifeboat] building actionlint ${actionlintVersion} from the Go module proxy (once per machine)`);
  await run(go, ["install", `github.com/rhysd/actionlint/cmd/actionlint@${actionlintVersion}`], { env: { ...process.env, GOBIN: staging }, timeout: 15 * 60_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(staging, dir);
}
