/**
 * The local provider's transport: a command "on a server" runs in the server's
 * directory, with the server's layout in its environment, and a service is the
 * server's supervisor. Each call is an API call of the account (logged, and
 * refused while it is suspended), as SSH to a deprovisioned host would fail.
 *
 * `lifeboat-server` is the same file every cloud server gets in its user-data
 * (providers/shared/server/), run here with this machine's Python 3.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Host } from "../../model/hosts.ts";
import { TransportError, type ExecOptions, type ExecResult, type ServiceAction, type ServiceName, type Transport } from "../types.ts";
import { assertAccountActive } from "./account.ts";
import { serverDir } from "./layout.ts";
import { dbFiles, pgBin, pgPort } from "./postgres.ts";
import { startServer, stopServer } from "./process.ts";

export const serverCommandScript = fileURLToPath(new URL("../shared/server/lifeboat-server.py", import.meta.url));

/** Where the on-server command finds PostgreSQL and pgBackRest in a local db server's directory. */
export function serverCommandEnv(dir: string): Record<string, string> {
  const files = dbFiles(dir);
  return {
    LIFEBOAT_PGDATA: files.data,
    LIFEBOAT_PGHOST: files.socket,
    LIFEBOAT_PGPORT: String(pgPort),
    LIFEBOAT_PGBIN: pgBin,
    LIFEBOAT_PGBACKREST_CONFIG: files.pgbackrestConf,
  };
}

export function localTransport(home: string, provider: string): Transport {
  return {
    exec(host: Host, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
      assertAccountActive(home, provider, `server.exec ${host.name} ${argv.slice(0, 2).join(" ")}`);
      const dir = serverDir(home, provider, host.name);
      const [command, ...args] = argv[0] === "lifeboat-server" ? ["/usr/bin/python3", serverCommandScript, ...argv.slice(1)] : argv;
      return new Promise((resolve, reject) => {
        const child = execFile(
          command!,
          args,
          { cwd: dir, env: { ...process.env, ...serverCommandEnv(dir) }, timeout: options.timeoutMs ?? 0, maxBuffer: 64 * 1024 * 1024 },
          (error, stdout, stderr) => {
            if (!error) return resolve({ stdout: String(stdout), stderr: String(stderr) });
            const code = typeof (error as NodeJS.ErrnoException).code === "number" ? Number((error as NodeJS.ErrnoException).code) : null;
            const said = String(stderr).trim() || error.message;
            reject(new TransportError(`${host.name}: ${argv.slice(0, 2).join(" ")} failed: ${said}`, host, code, String(stderr)));
          },
        );
        // A command that reads no stdin may exit before the write lands: that EPIPE is not its failure.
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(options.input ?? "");
      });
    },
    async service(host: Host, service: ServiceName, action: ServiceAction): Promise<void> {
      assertAccountActive(home, provider, `server.${action} ${host.name} ${service}`);
      // One role per local server: its supervisor is its service.
      const dir = serverDir(home, provider, host.name);
      if (action !== "start") await stopServer(dir);
      if (action !== "stop") await startServer(dir);
    },
  };
}

