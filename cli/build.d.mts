// Types of build.mjs (plain JavaScript: `npm ci` runs it before any TypeScript can).
import type { Metafile } from "esbuild";
export declare function buildCli(root?: string): Promise<{ sources: number; metafile: Metafile }>;
export declare function buildProgram(root?: string): Promise<{ sources: number; metafile: Metafile }>;
