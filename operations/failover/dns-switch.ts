/**
 * The DNS switch: every edge pointed at the new addresses through its
 * provider's API (seconds, not a stack update), then each of its
 * authoritative servers asked until it answers them. An edge whose provider
 * does not answer is reported and does not hold up the others.
 */
import type { EdgeSpec } from "../../model/spec/index.ts";
import { sameAddresses } from "../dns.ts";
import { poll, PollTimeout } from "../../model/poll.ts";
import type { DnsResult } from "./journal.ts";
import { operationsOf, providerAnswers, type Run } from "./run.ts";

/** How long each edge's authoritative servers get to answer the new addresses. */
export const dnsVerifyTimeoutMs = 10_000;

export async function switchDns(run: Run, addresses: string[]): Promise<DnsResult[]> {
  const { platform } = run;
  const nameservers = run.journal.facts.nameservers ?? {};
  const switchOne = async (edge: EdgeSpec): Promise<DnsResult> => {
    const base = { edge: edge.name, provider: edge.provider };
    const dns = operationsOf(run, edge.provider)?.dns;
    if (!dns || !providerAnswers(run, edge.provider)) return { ...base, ok: false, detail: `${edge.name} (${edge.provider}): its provider does not answer; not switched` };
    try {
      await dns.pointAt(platform.home, platform.spec, edge, addresses);
    } catch (error) {
      return { ...base, ok: false, detail: `${edge.name} (${edge.provider}): switch failed: ${(error as Error).message}` };
    }
    const servers = nameservers[edge.name] ?? [];
    const ask = () => Promise.all(servers.map((server) => run.deps.queryA(server, platform.spec.domain)));
    try {
      await poll({ what: `${edge.name}'s servers to answer ${addresses.join(", ")}`, probe: ask, done: (answers) => answers.every((a) => sameAddresses(a.addresses, addresses)), timeoutMs: dnsVerifyTimeoutMs });
      return { ...base, ok: true, detail: `${edge.name} (${edge.provider}): ${servers.map((s) => `@${s}`).join(" ")} answer ${addresses.join(", ")}` };
    } catch (error) {
      if (!(error instanceof PollTimeout)) throw error;
      const wrong = ((error.last as Awaited<ReturnType<typeof ask>> | undefined) ?? []).filter((a) => !sameAddresses(a.addresses, addresses));
      return { ...base, ok: false, detail: `${edge.name} (${edge.provider}): switched, but ${wrong.map((a) => `@${a.server} answers ${a.error ?? (a.addresses.join(", ") || "nothing")}`).join("; ") || "its servers did not answer"}` };
    }
  };
  return Promise.all(platform.spec.edges.map(switchOne));
}
