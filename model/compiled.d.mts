// Types of compiled.mjs (plain JavaScript: it runs before any TypeScript can).
export type Bundle = "cli" | "stacks";
export declare const projectRoot: string;
export declare const bundles: Record<Bundle, { source: string; entry: string }>;
export declare const compiledDirOf: (root: string, bundle?: Bundle) => string;
export declare const contentHash: (file: string) => string;
export declare function staleSources(root?: string, bundle?: Bundle): string[];
export declare function compiledEntry(bundle: Bundle, env?: NodeJS.ProcessEnv, root?: string): string | undefined;
export declare function compiledCli(env?: NodeJS.ProcessEnv): string | undefined;
