/** Asking authoritative servers directly what they answer (node:dns, no resolver cache in between). */
import { Resolver } from "node:dns/promises";

export interface DnsAnswer {
  server: string;
  name: string;
  addresses: string[];
  error?: string;
}

export async function queryA(server: string, name: string): Promise<DnsAnswer> {
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers([server]);
  try {
    return { server, name, addresses: (await resolver.resolve4(name)).sort() };
  } catch (error) {
    return { server, name, addresses: [], error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
}

export const sameAddresses = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
