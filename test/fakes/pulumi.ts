import { gunzipSync } from "node:zlib";
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

export interface MockOptions {
  /** The id a resource gets (Hetzner's ids are numbers); default `<name>-id`. */
  id?: (resource: { type: string; name: string; inputs: Record<string, any> }) => string | undefined;
  /** Extra outputs a resource type computes (an IP address, a zone's name servers); merged over its inputs. */
  outputs?: (resource: { type: string; name: string; inputs: Record<string, any> }) => Record<string, any> | undefined;
  /** Results of provider functions (aws:ec2/getAmi:getAmi, ...); default: the call's inputs. */
  calls?: (token: string, inputs: Record<string, any>) => Record<string, any> | undefined;
}

/** Installs Pulumi mocks that record every resource; call before importing the program. */
export async function recordResources(stack: string, options: MockOptions = {}): Promise<Recorder> {
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
        return { id: options.id?.(record) ?? `${args.name}-id`, state: { ...inputs, running: true, ...options.outputs?.(record) } };
      },
      call: (args) => options.calls?.(args.token, args.inputs) ?? args.inputs,
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

/**
 * Resolves once no resource has been registered for a while: a program's outputs
 * can resolve before its last resources (records that depend on a zone) are registered.
 */
export async function settled(recorder: Recorder): Promise<void> {
  let count = -1;
  for (let quiet = 0; quiet < 20; quiet = recorder.resources.length === count ? quiet + 1 : 0) {
    count = recorder.resources.length;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** The resolved value of an output (await it: an assertion inside apply would never be checked). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** The user-data a recorded server boots with, as the provider passes it: plain text, or gzipped and base64-encoded (EC2's userDataBase64). */
export function bootUserData(resource: RecordedResource): string | undefined {
  if (typeof resource.inputs.userDataBase64 === "string") return gunzipSync(Buffer.from(resource.inputs.userDataBase64, "base64")).toString();
  return typeof resource.inputs.userData === "string" ? resource.inputs.userData : undefined;
}

/** The name of the input that carries the user-data (to check that it travels as a secret). */
export const userDataInput = (resource: RecordedResource) => ("userDataBase64" in resource.inputs ? "userDataBase64" : "userData");
export interface Registration {
  type: string;
  provider: string;
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getProvider(): string;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getIgnorechangesList(): string[];
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
}
interface InvokeRequest {
  getTok(): string;
  getProvider(): string;
}
/**
 * The engine's registration requests as the monitor gets them (resource options included:
 * protect, ignoreChanges, deleteBeforeReplace), and its invokes. Call after recordResources.
 */
export function captureRequests() {
  const registrations = new Map<string, Registration>();
  const invokes: Array<{ token: string; provider: string }> = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: unknown): unknown;
    invoke(req: InvokeRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  const invoke = monitor.invoke.bind(monitor);
  monitor.registerResource = (req, callback) => {
    registrations.set(req.getName(), {
      type: req.getType(),
      provider: req.getProvider(),
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
      ignoreChanges: req.getIgnorechangesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    });
    return register(req, callback);
  };
  monitor.invoke = (req, callback) => {
    invokes.push({ token: req.getTok(), provider: req.getProvider() });
    return invoke(req, callback);
  };
  return { registrations, invokes };
}

