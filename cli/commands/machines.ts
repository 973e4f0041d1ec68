/**
 * `lifeboat machines up|down|status|freeze|thaw|kill|restart|exec`: real Debian 12
 * servers on this machine (systemd-nspawn, cloud-init), handed over like a
 * hosting company would, plus two S3 servers; for tests, drills and trying
 * Lifeboat out. No lifeboat.yaml needed: the state lives in Lifeboat's state dir.
 */
import { Command } from "commander";
import { z } from "zod";
import { OperationError, UserError } from "../../model/errors.ts";
import { stateDir } from "../../model/paths.ts";
import type { MachineInfo, MachinesContext, MachinesSummary } from "../../providers/machines/index.ts";
import { lazily } from "../lazy.ts";
import { machineIndex, maxMachines } from "../../providers/machines/layout.ts";
import { parseOptions, type CommandDeps } from "./shared.ts";

export interface MachinesCommandDeps extends CommandDeps {
  machinesUp(ctx: MachinesContext, options: { count: number }): Promise<MachinesSummary>;
  machinesDown(ctx: MachinesContext, options: { destroy?: boolean }): Promise<MachinesSummary>;
  machinesStatus(ctx: MachinesContext): Promise<MachinesSummary>;
  freezeMachine(ctx: MachinesContext, name: string): Promise<MachineInfo>;
  thawMachine(ctx: MachinesContext, name: string): Promise<MachineInfo>;
  killMachine(ctx: MachinesContext, name: string): Promise<MachineInfo>;
  restartMachine(ctx: MachinesContext, name: string): Promise<MachineInfo>;
  runInNetns(argv: string[], options?: { input?: string; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
}

export const defaultMachineCount = 6;

const countOption = z
  .string()
  .refine((text) => /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= maxMachines, { error: (issue) => `accepted: an integer from 1 to ${maxMachines}; got ${JSON.stringify(issue.input)}` })
  .transform(Number);

export const machinesUpOptions = z.strictObject({ count: countOption, json: z.boolean().optional() });
export const machinesDownOptions = z.strictObject({ destroy: z.boolean().optional(), json: z.boolean().optional() });
export const machinesStatusOptions = z.strictObject({ json: z.boolean().optional() });

function requireMachineName(name: string): string {
  if (machineIndex(name) === undefined) throw new UserError(`<machine>: "${name}" is not a machine name; accepted: m1 to m${maxMachines}`);
  return name;
}

const pad = (text: string, width: number) => text.padEnd(width);

/** One line per machine and per S3 server; with files, what a lifeboat.yaml points at. */
export function formatMachines(summary: MachinesSummary, options: { files?: boolean } = {}): string {
  const lines: string[] = [];
  if (summary.machines.length === 0) lines.push("no machines (lifeboat machines up)");
  for (const m of summary.machines) lines.push(`${pad(m.name, 4)} ${pad(m.address, 12)} ${m.state}`);
  for (const s of summary.s3) lines.push(`${pad(s.name, 8)} ${pad(s.endpoint, 24)} ${s.running ? "running" : "stopped"}`);
  if (options.files) {
    lines.push(
      "",
      `for lifeboat.yaml (reach them from the netns: every command runs in ${summary.netns}):`,
      `  ssh providers  identityFile:    ${summary.identityFile}`,
      `                 knownHostsFile:  ${summary.knownHostsFile}`,
      `                 netns:           ${summary.netns}`,
      `                 servers:         ${summary.machines.map((m) => m.address).join(", ")} (user root)`,
      `  s3 providers   endpoint:        ${summary.s3.map((s) => s.endpoint).join(", ")}`,
      `                 caFile:          ${summary.s3CaFile}`,
      `                 credentialsFile: ${summary.s3CredentialsFile} (profiles ${summary.s3.map((s) => s.name).join(", ")})`,
    );
  }
  return lines.join("\n");
}

const formatMachine = (m: MachineInfo) => `${pad(m.name, 4)} ${pad(m.address, 12)} ${m.state}`;

export function machinesCommand(deps: MachinesCommandDeps): Command {
  const ctx = (): MachinesContext => ({ home: stateDir(), log: (line) => deps.io.err(line) });
  const machines = new Command("machines")
    .description("real Debian 12 servers on this machine (systemd-nspawn + cloud-init, root over SSH) and two S3 servers, in a network namespace with no way out: for tests, drills and trying Lifeboat out (needs root)")
    // exec passes everything after its command name on untouched (see there).
    .enablePositionalOptions();
  machines
    .command("up")
    .description("start machines m1..m<n> and the S3 servers vault-a and vault-b (builds the image and versitygw once); what runs is left alone, stopped machines boot with their disks")
    .option("--count <n>", `how many machines (1-${maxMachines})`, String(defaultMachineCount))
    .option("--json", "print the result as JSON (progress goes to stderr)")
    .action(async (rawOptions: unknown) => {
      const options = parseOptions(machinesUpOptions, rawOptions);
      const summary = await deps.machinesUp(ctx(), { count: options.count });
      deps.io.out(options.json ? JSON.stringify(summary, null, 2) : formatMachines(summary, { files: true }));
    });
  machines
    .command("down")
    .description("stop every machine (clean shutdown) and the S3 servers, unmount, delete the network namespace; disks are kept unless --destroy")
    .option("--destroy", "also delete the machines' disks, the keys and the S3 data")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown) => {
      const options = parseOptions(machinesDownOptions, rawOptions);
      const summary = await deps.machinesDown(ctx(), { destroy: options.destroy });
      deps.io.out(options.json ? JSON.stringify(summary, null, 2) : formatMachines(summary));
    });
  machines
    .command("status")
    .description("each machine's address and state (running, frozen, stopped, killed), the S3 servers, and the files a lifeboat.yaml needs")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown) => {
      const options = parseOptions(machinesStatusOptions, rawOptions);
      const summary = await deps.machinesStatus(ctx());
      deps.io.out(options.json ? JSON.stringify(summary, null, 2) : formatMachines(summary, { files: summary.machines.length > 0 }));
    });
  const control = (name: string, description: string, act: (ctx: MachinesContext, machine: string) => Promise<MachineInfo>) =>
    machines
      .command(name)
      .description(description)
      .argument("<machine>", `m1 to m${maxMachines}`)
      .action(async (machine: string) => {
        deps.io.out(formatMachine(await act(ctx(), requireMachineName(machine))));
      });
  control("freeze", "hang a machine: its processes frozen and its link down, so connections to it time out like to a dead host", (c, m) => deps.freezeMachine(c, m));
  control("thaw", "undo freeze: the machine goes on where it stopped", (c, m) => deps.thawMachine(c, m));
  control("kill", "a power cut: kill -9 of the machine's init; it stays down with its disk as the crash left it", (c, m) => deps.killMachine(c, m));
  control("restart", "boot a machine again with its disk (after kill or down); a running one is shut down cleanly first", (c, m) => deps.restartMachine(c, m));
  machines
    .command("exec")
    .description("run a command in the machines' network namespace (ssh, psql, curl reach the machines and S3 there); put -- before it if it has options lifeboat knows (--verbose)")
    .argument("<command...>", "the command and its arguments")
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (argv: string[]) => {
      const result = await deps.runInNetns(argv);
      if (result.stdout) deps.io.out(result.stdout);
      if (result.stderr) deps.io.err(result.stderr);
      if (result.code !== 0) throw new OperationError(`${argv[0]} exited with ${result.code}${result.code === 124 ? " (timed out)" : ""}`);
    });
  return machines;
}

const machines = () => import("../../providers/machines/index.ts");
export const machinesOperations = {
  machinesUp: lazily(machines, "machinesUp"),
  machinesDown: lazily(machines, "machinesDown"),
  machinesStatus: lazily(machines, "machinesStatus"),
  freezeMachine: lazily(machines, "freezeMachine"),
  thawMachine: lazily(machines, "thawMachine"),
  killMachine: lazily(machines, "killMachine"),
  restartMachine: lazily(machines, "restartMachine"),
  runInNetns: lazily(machines, "runInNetns"),
};
