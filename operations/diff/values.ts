/**
 * Property values as the engine reports them in events, made printable and
 * safe: secrets become "[secret]" (whether the engine marked them or their name
 * says what they are), unknowns become "(known after deploy)".
 */

export const secretText = "[secret]";
export const unknownText = "(known after deploy)";

/** Pulumi's marker for a secret value in serialized properties. */
const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";
/** Pulumi's sentinel for a value not known until the deployment runs. */
const unknownSentinel = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Property names that hold credentials whatever the engine says: a provider that
 * forgets to mark one secret must not put it in a pull request comment.
 */
const secretName = /(pass(word|phrase)|secret(_?(key|text|access_?key))?|token|api_?key|private_?key|credentials?)$/i;

/** By the end of the name, so that `dnsApiKey` and `apiToken` match but `httpTokens` (an IMDS setting a reviewer must see) does not. */
export const looksSecret = (name: string) => secretName.test(name);

export function isSecretValue(value: unknown): boolean {
  if (value === secretText) return true;
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[secretSignatureKey] === secretSignature;
}

/** True when `value` holds something the engine will only know during the deployment. */
export const containsUnknown = (value: unknown): boolean => JSON.stringify(value ?? null).includes(unknownSentinel);

/** A copy of `value` with every secret (marked, or under a secret-looking key) replaced. */
export function redact(value: unknown): unknown {
  if (isSecretValue(value)) return secretText;
  if (value === unknownSentinel) return unknownText;
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, looksSecret(key) && inner !== undefined ? secretText : redact(inner)]));
  }
  return value;
}

/** Splits a property path (`a.b[0]["c.d"]`) into keys and indexes. */
export function parsePath(path: string): Array<string | number> {
  const parts: Array<string | number> = [];
  for (const match of path.matchAll(/\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.[\]]+)/g)) {
    if (match[1] !== undefined) parts.push(match[1].replace(/\\(.)/g, "$1"));
    else if (match[2] !== undefined) parts.push(Number(match[2]));
    else parts.push(match[3]!);
  }
  return parts;
}

/** The value at a property path, or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const part of parsePath(path)) {
    if (value === null || typeof value !== "object") return undefined;
    if (isSecretValue(value)) return secretText; // inside a secret, everything is secret
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

/** The printable form of a value found at `path`: never a secret. */
export function printable(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (parsePath(path).some((part) => typeof part === "string" && looksSecret(part))) return secretText;
  const safe = redact(value);
  return typeof safe === "string" && (safe === secretText || safe === unknownText) ? safe : JSON.stringify(safe);
}
