/**
 * Makes sure a Pulumi engine exists before the integration tests run, building it
 * on a fresh machine (several minutes, once). Tests then find it through the cache.
 */
import { getEngine } from "../../cli/engine/index.ts";

export default async function setup() {
  const engine = await getEngine({ log: (line) => console.error(`[lifeboat] ${line}`) });
  console.error(`[lifeboat] engine v${engine.version} (${engine.source}): ${engine.pulumi}`);
}
