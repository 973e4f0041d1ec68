// Types of compiled.mjs (plain JavaScript: it runs before any TypeScript can).
export declare const projectRoot: string;
export declare const compiledDirOf: (root: string) => string;
export declare const contentHash: (file: string) => string;
export declare function staleSources(root?: string): string[];
export declare function compiledCli(env?: NodeJS.ProcessEnv): string | undefined;
