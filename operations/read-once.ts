/**
 * Reading a stack once per operation: for an operation that changes no
 * stack's outputs (diff), which would otherwise open and read the same stacks
 * once for each stack it prepares.
 */
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import type { Platform } from "./platform.ts";

/**
 * What an operation that changes no stack's outputs (diff) opens or reads only once: each stack (a
 * `pulumi stack select` each time otherwise) and each stack's outputs (three engine runs when they hold
 * a secret). Several stacks' preparations ask for the same ones: the backup repositories, the active
 * site's addresses, the active site's stack for the secrets every site shares.
 */
export interface ReadOnce {
  stacks: Map<string, Promise<Stack>>;
  outputs: Map<string, Promise<Record<string, unknown> | undefined>>;
}

/** `platform` for an operation that changes no stack's outputs: see ReadOnce. */
export const readingOnce = (platform: Platform): Platform => ({ ...platform, readOnce: { stacks: new Map(), outputs: new Map() } });

/** `read()` the first time `key` is asked for in `memo`, its promise every time (without a memo, each time). */
export function once<T>(memo: Map<string, Promise<T>> | undefined, key: string, read: () => Promise<T>): Promise<T> {
  if (!memo) return read();
  let value = memo.get(key);
  if (!value) memo.set(key, (value = read()));
  return value;
}
