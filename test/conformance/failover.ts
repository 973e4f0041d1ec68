/**
 * The failover conformance suite: the same scenarios against every world that
 * can run a failover (a fake provider in the unit tests, in seconds; the local
 * provider with the real engine in the integration tests; machines later). A
 * world says how to write, read, break and count; the suite says what must
 * hold: the nine steps journaled and resumed after an interruption at every
 * step, --assume-gone making zero calls to the old provider, a failed health
 * gate leaving DNS untouched, one DNS provider down, and no acknowledged write
 * lost.
 */
import { describe, expect, it } from "vitest";
import { stepNames, type StepName } from "../../operations/failover/journal.ts";

export interface FailoverOutcome {
  code: number;
  /** The failover's report when it finished or failed with one (--json); absent when it was killed. */
  report?: {
    run: string;
    ok: boolean;
    resumed: boolean;
    to: string;
    steps: Array<{ name: string; status: string; attempts: number }>;
    dns: Array<{ edge: string; ok: boolean }>;
    dnsCheck?: { ok: boolean; differences: string[] };
    todo: string[];
    oldSite: { reachable: boolean | "not asked" };
    startedAt: string;
    fenceRecord?: { at: string; repositories: number };
  };
  stderr: string;
}

export interface FailoverWorld {
  /** The active site and its warm standby as the world stands now (they swap with each failover). */
  active(): { site: string; provider: string };
  standby(): { site: string; provider: string };
  edges: Array<{ name: string; provider: string }>;
  /** Writes `count` posts through the active site; resolves with the ids the platform acknowledged. */
  write(count: number, label: string): Promise<number[]>;
  /** How many of `ids` the site's database holds. */
  present(site: string, ids: number[]): Promise<number>;
  /** What each edge's authoritative servers answer for the domain, by edge name (an edge that does not answer: []). */
  dnsAnswers(): Promise<Record<string, string[][]>>;
  /** `lifeboat dns check` now. */
  dnsCheck(): Promise<{ ok: boolean; differences: string[] }>;
  ingressOf(site: string): string[];
  /** Calls the provider has received so far (its API log). */
  callsTo(provider: string): number;
  /** Runs `lifeboat failover --to <to> --yes`, killed right after `crashAfter`'s journal entry when given. */
  failover(to: string, options?: { assumeGone?: boolean; crashAfter?: StepName }): Promise<FailoverOutcome>;
  /** The target site stops passing the health gate (its apps cannot write), until fixed. */
  breakHealth(site: string): Promise<void>;
  fixHealth(site: string): Promise<void>;
  /** The provider stops answering (servers down, API refusing), or answers again. */
  providerDown(provider: string): Promise<void>;
  providerUp(provider: string): Promise<void>;
  /** After a failover: the old site cleaned and brought back as the standby of the active site. */
  restoreStandby(site: string): Promise<void>;
  /** The state mirrors a repository holds, oldest first: the command each records and the active site its role record names. */
  stateMirrors(repository: string): Promise<Array<{ after: string; active?: string }>>;
}

const sameSet = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

export function failoverConformance(label: string, world: () => FailoverWorld, options: { timeout?: number } = {}) {
  describe(`failover conformance: ${label}`, { timeout: options.timeout ?? 20_000 }, () => {
    it("--assume-gone: the old site's provider is never called, even while it answers; a failed health gate leaves DNS untouched; the rerun resumes there and finishes all nine steps; no acknowledged write is lost", async () => {
      const w = world();
      const from = w.active();
      const to = w.standby();
      const ids = await w.write(50, "before");
      await w.breakHealth(to.site);
      const calls = w.callsTo(from.provider);

      const blocked = await w.failover(to.site, { assumeGone: true });
      expect(blocked.code, blocked.stderr).toBe(1);
      expect(blocked.stderr).toMatch(/health gate failed/);
      const oldIngress = w.ingressOf(from.site);
      for (const [edge, answers] of Object.entries(await w.dnsAnswers())) {
        for (const answer of answers) expect(sameSet(answer, oldIngress), `${edge} still answers ${from.site}`).toBe(true);
      }

      await w.fixHealth(to.site);
      const done = await w.failover(to.site);
      expect(done.code, done.stderr).toBe(0);
      expect(done.report).toMatchObject({ ok: true, resumed: true, to: to.site, oldSite: { reachable: "not asked" } });
      // The fence record went out in the first attempt, before the health gate failed: the report says when, and where it was taken.
      expect(done.report!.fenceRecord?.repositories).toBeGreaterThanOrEqual(1);
      expect(Date.parse(done.report!.fenceRecord!.at)).toBeGreaterThanOrEqual(Date.parse(done.report!.startedAt));
      expect(Date.parse(done.report!.fenceRecord!.at)).toBeLessThanOrEqual(Date.now());
      expect(done.report!.steps.map((s) => s.name)).toEqual([...stepNames]);
      expect(done.report!.steps.every((s) => s.status === "done" || (s.name === "maintenance" && s.status === "skipped"))).toBe(true);
      expect(done.report!.steps.find((s) => s.name === "health")!.attempts).toBe(2);
      for (const [edge, answers] of Object.entries(await w.dnsAnswers())) {
        for (const answer of answers) expect(sameSet(answer, w.ingressOf(to.site)), `${edge} answers ${to.site}`).toBe(true);
      }
      expect(await w.present(to.site, ids)).toBe(ids.length);
      expect(w.callsTo(from.provider), `calls to ${from.provider}`).toBe(calls);
      // Every vendor switched: the check at the end finds nothing to do.
      expect(done.report!.dnsCheck).toMatchObject({ ok: true, differences: [] });
      expect(done.report!.todo.filter((t) => t.startsWith("dns check:"))).toEqual([]);
    });

    it("killed after every step, with one DNS provider down: each rerun resumes the same run and the end state is an uninterrupted run's", async () => {
      const w = world();
      const gone = w.standby();
      await w.restoreStandby(gone.site);
      const from = w.active();
      const to = w.standby();
      const ids = await w.write(30, "again");
      const down = w.edges[0]!;
      await w.providerDown(down.provider);
      let run: string | undefined;
      for (const [i, step] of stepNames.slice(0, -1).entries()) {
        const killed = await w.failover(to.site, { crashAfter: step });
        expect(killed.code, `killed after ${step}: ${killed.stderr}`).not.toBe(0);
        if (i === 0) continue;
        // Each rerun continues the run the first one started.
        const resumed = /resuming failover run (\S+)/.exec(killed.stderr)?.[1];
        expect(resumed, `rerun after ${step}`).toBeDefined();
        run ??= resumed;
        expect(resumed).toBe(run);
      }
      const done = await w.failover(to.site);
      expect(done.code, done.stderr).toBe(0);
      expect(done.report).toMatchObject({ ok: true, resumed: true, run });
      // Every step ran to its end exactly once: a step killed after its journal entry is not run again.
      for (const step of done.report!.steps) expect(step.attempts, step.name).toBe(1);
      expect(done.report!.dns.map((d) => [d.edge, d.ok])).toEqual(w.edges.map((e) => [e.name, e.name !== down.name]));
      expect(done.report!.todo.join("\n")).toMatch(/registrar/);
      // The check at the end names the vendor that did not answer, in "left to do".
      expect(done.report!.dnsCheck?.ok).toBe(false);
      const dnsTodo = done.report!.todo.filter((t) => t.startsWith("dns check:"));
      expect(dnsTodo.length, done.report!.todo.join("\n")).toBeGreaterThan(0);
      expect(dnsTodo.every((t) => t.includes(down.name))).toBe(true);
      const answers = await w.dnsAnswers();
      for (const answer of answers[w.edges[1]!.name]!) expect(sameSet(answer, w.ingressOf(to.site))).toBe(true);
      expect(await w.present(to.site, ids)).toBe(ids.length);
      expect(w.active().site).toBe(to.site);
      expect(from.site).not.toBe(to.site);
      // Last, the state as the run left it went into the repository that answers, naming the new active site; none into the one down.
      expect((await w.stateMirrors(w.edges[1]!.provider)).at(-1)).toEqual({ after: `failover ${run}`, active: to.site });
      expect((await w.stateMirrors(down.provider)).filter((m) => m.after === `failover ${run}`)).toEqual([]);
      await w.providerUp(down.provider);
      // Back, the vendor left behind answers the old site's addresses: the check names it and the record.
      const stale = await w.dnsCheck();
      expect(stale.ok).toBe(false);
      const staleLines = stale.differences.filter((d) => d.includes(down.name));
      expect(staleLines.length, stale.differences.join("\n")).toBeGreaterThan(0);
      expect(staleLines.some((d) => d.includes(w.ingressOf(from.site)[0]!) && d.includes(w.ingressOf(to.site)[0]!)), staleLines.join("\n")).toBe(true);
      expect(stale.differences.filter((d) => !d.includes(down.name))).toEqual([]);
    });
  });
}
