/**
 * The Pulumi program's entry (Pulumi.yaml's `main`): the bundle of
 * stacks/index.ts that `npm run build` made (dist/stacks/) while it was made
 * from exactly these sources, the TypeScript through tsx otherwise
 * (model/compiled.mjs). A stack source edited without a rebuild is therefore
 * what runs, only slower; the bundle saves each preview and update the
 * compilation of the program and the loading of a compiler.
 * Plain JavaScript: the language host runs it as it is (Pulumi.yaml says
 * `typescript: false`).
 */
import { compiledEntry } from "../model/compiled.mjs";

async function fromSources() {
  const { register } = await import("tsx/esm/api");
  register();
  return import("./index.ts");
}

/**
 * The bundle, or undefined when it may not run or a file of it cannot be found: the sources always can.
 * An exception of the program itself is the program's, and goes to the engine as it would from the sources.
 */
async function fromBundle() {
  let compiled;
  try {
    compiled = compiledEntry("stacks");
  } catch {
    return undefined; // a record being replaced by a build right now
  }
  if (!compiled) return undefined;
  // A program's exception names the source line it was thrown at (lifeboat diff shows that frame), not the bundle's.
  process.setSourceMapsEnabled(true);
  try {
    return await import(compiled);
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("/dist/stacks/")) return undefined;
    throw error;
  }
}

const program = (await fromBundle()) ?? (await fromSources());

// The language host awaits this export and makes its properties the stack's outputs.
export default program.default;
