/**
 * lifeboat diff's report: engine events (recorded from real previews on the local
 * provider, and synthetic ones with AWS, Hetzner and Cloudflare types) rendered
 * to markdown, JSON and text and compared with golden files; secrets; splitting.
 */
import fs from "node:fs";
import path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { engineError, redactKnownSecrets } from "../../operations/engine-error.ts";
import { failedStack, stackDiffFromEvents } from "../../operations/diff/events.ts";
import { commentMarker, renderMarkdown } from "../../operations/diff/markdown.ts";
import { dangerousChanges, reportTotals, type DiffReport, type StackDiff } from "../../operations/diff/model.ts";
import { renderJson, renderText } from "../../operations/diff/text.ts";
import { printable } from "../../operations/diff/values.ts";

const fixtures = path.join(import.meta.dirname, "../fixtures/diff");

interface Fixture {
  domain: string;
  stacks: Array<Pick<StackDiff, "stack" | "kind" | "provider"> & { events?: EngineEvent[]; error?: string }>;
}

function reportFrom(file: string): DiffReport {
  const fixture = JSON.parse(fs.readFileSync(path.join(fixtures, file), "utf8")) as Fixture;
  return {
    domain: fixture.domain,
    stacks: fixture.stacks.map(({ events, error, ...stack }) => (error ? failedStack(stack, error) : stackDiffFromEvents(stack, events ?? []))),
  };
}

const renderings = (report: DiffReport) => ({ markdown: renderMarkdown(report).join(""), json: renderJson(report), text: renderText(report) });

describe.each(["cloud", "local"])("the %s fixture", (name) => {
  const report = reportFrom(`${name}.events.json`);
  it("renders markdown, JSON and text as the golden files", async () => {
    const { markdown, json, text } = renderings(report);
    await expect(markdown).toMatchFileSnapshot(path.join(fixtures, `${name}.golden.md`));
    await expect(json).toMatchFileSnapshot(path.join(fixtures, `${name}.golden.json`));
    await expect(text).toMatchFileSnapshot(path.join(fixtures, `${name}.golden.txt`));
  });
});

describe("the synthetic cloud preview", () => {
  const report = reportFrom("cloud.events.json");

  it("flags every replace or delete of something holding data, and nothing else", () => {
    expect(dangerousChanges(report).map((c) => `${c.stack} ${c.op} ${c.name}`)).toEqual([
      "site-aws-fra delete aws-fra-db-1-data",
      "site-aws-fra replace aws-fra-db-1",
      "site-hetzner-fsn replace hetzner-fsn-ingress",
      "edge-cloudflare delete social-example",
    ]);
    const db = dangerousChanges(report).find((c) => c.name === "aws-fra-db-1")!;
    expect(db).toMatchObject({ holds: "database server", reason: "replaced because ami changed and cannot be updated in place" });
  });

  it("counts per stack, leaves out Pulumi's bookkeeping, and reports the stack that could not be previewed", () => {
    const aws = report.stacks.find((s) => s.stack === "site-aws-fra")!;
    expect(aws.counts).toEqual({ create: 2, update: 2, replace: 1, delete: 1 });
    expect(aws.changes.map((c) => c.type)).not.toContain("pulumi:providers:aws");
    expect(reportTotals(report)).toMatchObject({ failed: 1, dangerous: 4 });
    expect(renderMarkdown(report)[0]).toContain("| `edge-route53` | route53 | | | | | **could not preview**: missing credentials: AWS_ACCESS_KEY_ID");
  });

  it("names changed properties with their old and new values", () => {
    const group = report.stacks[0]!.changes.find((c) => c.name === "aws-fra-db" && c.op === "update")!;
    expect(group.properties).toEqual([{ path: "ingress[0].cidrBlocks[0]", kind: "changed", old: '"10.0.1.0/24"', new: '"0.0.0.0/0"' }]);
    const firewall = report.stacks[1]!.changes.find((c) => c.type === "hcloud:index/firewall:Firewall")!;
    expect(firewall.properties[0]).toMatchObject({ path: "rules[1]", kind: "added", new: expect.stringContaining('"port":"80"') });
    expect(firewall.properties[0]!.old).toBeUndefined();
  });

  it("shows a changed secret only as changed, in every format", () => {
    const { markdown, json, text } = renderings(report);
    for (const rendered of [markdown, json, text]) {
      expect(rendered).not.toContain("must-not-show");
      expect(rendered).not.toContain("4dabf18193072939515e22adb298388d");
    }
    const hook = report.stacks[2]!.changes.find((c) => c.name === "hook")!;
    expect(hook.properties).toEqual([{ path: "secretText", kind: "changed", old: "[secret]", new: "[secret]" }]);
    const app = report.stacks[0]!.changes.find((c) => c.name === "aws-fra-app-1")!;
    expect(app.properties.find((p) => p.path === "userData")).toMatchObject({ old: "[secret]", new: "[secret]" });
  });
});

describe("markdown", () => {
  it("keeps a value with pipes and newlines inside its table cell", () => {
    const report = reportFrom("cloud.events.json");
    report.stacks[0]!.changes[0]!.properties = [{ path: "note", kind: "changed", old: "a|b\nc", new: "`x`" }];
    const markdown = renderMarkdown(report)[0]!;
    expect(markdown).toContain("| `note` | changed | `a\\|b c` | `'x'` |");
  });

  it("starts a stack whose details begin in a later part with its own heading, not as a continuation", () => {
    const step = (stack: string, i: number): EngineEvent => {
      const urn = `urn:pulumi:${stack}::lifeboat::aws:ec2/instance:Instance::server-${i}`;
      return { sequence: i, timestamp: 0, resourcePreEvent: { metadata: { op: "create", urn, type: "aws:ec2/instance:Instance", provider: "" } } } as EngineEvent;
    };
    const stacks = ["site-a", "site-b"].map((stack) => stackDiffFromEvents({ stack, kind: "site", provider: "aws" }, Array.from({ length: 30 }, (_, i) => step(stack, i))));
    // Many limits, so that some part boundary falls exactly where site-b's details begin.
    for (let limit = 1_000; limit <= 3_000; limit += 23) {
      const parts = renderMarkdown({ domain: "social.example", stacks }, limit);
      for (const stack of ["site-a", "site-b"]) expect(parts.filter((p) => p.includes(`### ${stack} · 30 to create`)), `${stack} at ${limit}`).toHaveLength(1);
      parts.forEach((part, i) => {
        // "(continued)" only ever follows a part that already showed that stack's heading.
        const continued = /### (site-[ab]) \(continued\)/.exec(part)?.[1];
        if (continued) expect(parts.slice(0, i).some((p) => p.includes(`### ${continued} · `)), `${continued} at ${limit}`).toBe(true);
      });
    }
  });

  it("hides values under secret-looking names but not a setting that merely contains the word", () => {
    expect(printable("s3cr3t", "dnsApiKey")).toBe("[secret]");
    expect(printable("s3cr3t", "settings.apiToken")).toBe("[secret]");
    expect(printable("optional", "metadataOptions.httpTokens")).toBe('"optional"');
  });

  it("says so plainly when nothing changes", () => {
    const report: DiffReport = { domain: "social.test", stacks: [stackDiffFromEvents({ stack: "site-a", kind: "site", provider: "local-a" }, [])] };
    expect(renderMarkdown(report)[0]).toContain("No changes: every stack matches lifeboat.yaml.");
  });
});

/** A preview of `count` resources, one in a hundred a dangerous delete of a data volume. */
function syntheticReport(count: number): DiffReport {
  const events: EngineEvent[] = Array.from({ length: count }, (_, i) => {
    const name = `server-${String(i).padStart(5, "0")}`;
    const type = i % 100 === 0 ? "aws:ebs/volume:Volume" : "aws:ec2/instance:Instance";
    const op = i % 100 === 0 ? "delete" : i % 2 ? "update" : "create";
    const urn = `urn:pulumi:site-big::lifeboat::${type}::${name}`;
    const old = { type, urn, id: name, parent: "", provider: "", inputs: { instanceType: "t3.small", tags: { Name: name } }, outputs: {} };
    const now = { ...old, inputs: { instanceType: "t3.medium", tags: { Name: name } } };
    return {
      sequence: i,
      timestamp: 0,
      resourcePreEvent: { metadata: { op, urn, type, provider: "", old: op === "create" ? undefined : old, new: op === "delete" ? undefined : now, diffs: op === "update" ? ["instanceType"] : undefined } },
    } as EngineEvent;
  });
  return { domain: "social.example", stacks: [stackDiffFromEvents({ stack: "site-big", kind: "site", provider: "aws" }, events)] };
}

describe("a preview of 10,000 resources", () => {
  const report = syntheticReport(10_000);
  const limit = 65_000;
  const parts = renderMarkdown(report, limit);

  it("is split into parts that are each under the limit", () => {
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(limit);
    parts.forEach((part, i) => {
      expect(part.startsWith(commentMarker(i + 1))).toBe(true);
      expect(part).toContain(`*Part ${i + 1} of ${parts.length}.`);
    });
  });

  it("has the summary and every dangerous change whole in the first part", () => {
    const first = parts[0]!;
    expect(first).toContain("| **total** | | 4900 | 5000 | 0 | 100 |  |");
    const dangerousRows = first.split("### Dangerous (100)")[1]!.split("\n\n")[1]!.split("\n").filter((l) => l.includes("**delete**"));
    expect(dangerousRows).toHaveLength(100);
    for (const part of parts.slice(1)) expect(part).not.toContain("### Dangerous");
  });

  it("loses nothing: every resource's row appears exactly once across the parts", () => {
    const rows = parts.join("").split("\n").filter((line) => /^\| (\+|~|-) \| /.test(line));
    expect(rows).toHaveLength(10_000);
    expect(new Set(rows.map((r) => /`(server-\d+)`/.exec(r)![1])).size).toBe(10_000);
    // Every fold that is opened is closed in the same part.
    for (const part of parts) expect(part.split("<details>").length).toBe(part.split("</details>").length);
  });
});

describe("a stack that could not be previewed says why, whole", () => {
  // The engine's error for a program that throws (test/fixtures/throwing-stack), as the Automation API reports it.
  const recorded = fs.readFileSync(path.join(fixtures, "throwing-program.error.txt"), "utf8").replaceAll("<project>", projectRoot);
  const report = (error: string): DiffReport => ({ domain: "social.example", stacks: [failedStack({ stack: "site-aws-fra", kind: "site", provider: "aws" }, error)] });

  it("takes the program's exception and the first frame in the project from the engine's output, not its first line", () => {
    expect(engineError(new Error(recorded))).toBe(
      [
        "Running program 'test/fixtures/throwing-stack/index.ts' failed with an unhandled exception:",
        'Error: backups.bucket "Social_Backups" is not a bucket name: use 3-63 lower-case letters, digits and dashes',
        "  at bucketName (test/fixtures/throwing-stack/index.ts:6:15)",
      ].join("\n"),
    );
  });

  it("names the program, not the loader Pulumi.yaml runs it through (stacks/main.mjs)", () => {
    const throughTheLoader = recorded.replaceAll(`${projectRoot}/test/fixtures/throwing-stack/index.ts'`, `${projectRoot}/stacks/main.mjs'`);
    expect(throughTheLoader).not.toBe(recorded);
    expect(engineError(new Error(throughTheLoader)).split("\n")[0]).toBe("Running program 'stacks/index.ts' failed with an unhandled exception:");
  });

  it("shows it in every format: text under the stack, markdown in a fold, JSON whole", () => {
    const { markdown, json, text } = renderings(report(engineError(new Error(recorded))));
    const message = 'backups.bucket "Social_Backups" is not a bucket name';
    expect(text).toMatch(/^site-aws-fra \(aws\): could not preview: Running program 'test\/fixtures\/throwing-stack\/index.ts' failed with an unhandled exception:$/m);
    expect(text).toContain(`\n  Error: ${message}`);
    expect(text).toContain("\n    at bucketName (test/fixtures/throwing-stack/index.ts:6:15)");
    expect(markdown).toContain("<details><summary>Why `site-aws-fra` could not be previewed</summary>");
    expect(markdown).toMatch(new RegExp(`~~~~text\\nRunning program .*\\nError: ${message.replace(/"/g, '"')}.*\\n  at bucketName .*\\n~~~~`));
    expect((JSON.parse(json) as DiffReport).stacks[0]!.error).toContain(`Error: ${message}`);
  });

  it("an engine diagnostic of one line (a missing plugin) is taken whole too", () => {
    const plugin = "Diagnostics:\n  pulumi:providers:hcloud (default_1_41_0):\n    error: no resource plugin 'pulumi-resource-hcloud' found in the workspace at version v1.41.0 or on your $PATH, install the plugin using `pulumi plugin install resource hcloud v1.41.0`\n\n";
    expect(engineError(new Error(`code: -2\n stdout: \n stderr: Previewing update\n${plugin}`))).toBe("no resource plugin 'pulumi-resource-hcloud' found in the workspace at version v1.41.0 or on your $PATH, install the plugin using `pulumi plugin install resource hcloud v1.41.0`");
  });

  afterEach(() => vi.unstubAllEnvs());

  it("never shows a credential Lifeboat knows, though a program's exception may carry one", () => {
    const token = "hc-token-0123456789abcdef";
    vi.stubEnv("HCLOUD_TOKEN", token);
    const leaking = recorded.replace('is not a bucket name', `was refused with token ${token}`);
    const { markdown, json, text } = renderings(report(engineError(new Error(leaking))));
    for (const rendered of [markdown, json, text]) expect(rendered).not.toContain(token);
    expect(redactKnownSecrets(`token ${token}`, { HCLOUD_TOKEN: token })).toBe("token [secret]");
  });
});
