import * as pulumi from "@pulumi/pulumi";

/** Pulumi's wire marker for a secret value. */
const secretSig = "4dabf18193072939515e22adb298388d";

export interface RecordedResource {
  type: string;
  name: string;
  /** Inputs with secrets unwrapped. */
  inputs: Record<string, any>;
  /** Names of the inputs that arrived as secrets. */
  secretInputs: string[];
}

export interface Recorder {
  resources: RecordedResource[];
  /** Resolves once a resource with this name has been registered. */
  waitFor(name: string): Promise<RecordedResource>;
}

/** Installs Pulumi mocks that record every resource; call before importing the program. */
export async function recordResources(stack: string): Promise<Recorder> {
  const resources: RecordedResource[] = [];
  const waiters = new Map<string, (r: RecordedResource) => void>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const secretInputs = Object.keys(args.inputs).filter((k) => args.inputs[k]?.[secretSig] !== undefined);
        const inputs = Object.fromEntries(Object.entries(args.inputs).map(([k, v]: [string, any]) => [k, v?.[secretSig] !== undefined ? v.value : v]));
        const record = { type: args.type, name: args.name, inputs, secretInputs };
        resources.push(record);
        waiters.get(args.name)?.(record);
        // Dynamic resources echo their inputs as outputs; servers come up running.
        return { id: `${args.name}-id`, state: { ...inputs, running: true } };
      },
      call: (args) => args.inputs,
    },
    "lifeboat",
    stack,
    false,
  );
  return {
    resources,
    waitFor: (name) => {
      const found = resources.find((r) => r.name === name);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.set(name, resolve));
    },
  };
}

/** The resolved value of an output (await it: an assertion inside apply would never be checked). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}
