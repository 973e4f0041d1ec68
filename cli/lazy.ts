/**
 * Operations loaded on their first call. A command module imports only what it
 * needs to parse and print (commander, zod, the result's formatter); the
 * operation itself, with Pulumi, the AWS SDK and PostgreSQL's client behind it,
 * loads when the command runs. So `lifeboat --help` and a bad flag answer at
 * once, and a failover does not begin with a second of module loading.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any is what lets every async signature through
type AsyncFunction = (...args: any[]) => Promise<unknown>;

/** The names of a module's exports that are async functions: only those can wait for their module. */
type AsyncExports<M> = { [K in keyof M]: M[K] extends AsyncFunction ? K : never }[keyof M];

export function lazily<M, K extends AsyncExports<M>>(load: () => Promise<M>, name: K): M[K] {
  const call = async (...args: unknown[]) => {
    const operation = (await load())[name] as AsyncFunction;
    return operation(...args);
  };
  return call as M[K];
}
