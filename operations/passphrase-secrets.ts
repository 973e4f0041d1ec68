/**
 * A stack's secrets read without starting the engine, where Pulumi's passphrase secrets provider (Lifeboat's
 * default) encrypted them: in Pulumi.<stack>.yaml's config and in a file:// backend's state. Each engine run
 * that decrypts (`pulumi config --show-secrets`, `pulumi stack output --show-secrets`) costs about 0.6 s of
 * CPU on this 2-core machine, most of it the engine starting; diff made six of them before its previews.
 *
 * The scheme (the engine's pkg/secrets/passphrase): the key is PBKDF2-SHA256 of the passphrase and the stack's
 * salt, 1,000,000 rounds, 32 bytes; a value is "v1:<nonce>:<ciphertext and tag>" (base64), AES-256-GCM. The
 * salt, "v1:<salt>:<a value>", carries "pulumi" encrypted, which proves the passphrase. Anything else (another
 * secrets provider, a passphrase that does not open the salt, another format) answers undefined: the caller
 * asks the engine. Decrypted values stay in memory, as the engine's answers did; nothing here prints them.
 */
import { createDecipheriv, pbkdf2 } from "node:crypto";
import fs from "node:fs";
import { promisify } from "node:util";

export type Decrypt = (value: string) => string;

const pbkdf2Async = promisify(pbkdf2);
const rounds = 1_000_000;

/** One key per passphrase and salt for the process's life: the derivation is the costly part (about 0.2 s of CPU). */
const keys = new Map<string, Promise<Decrypt | undefined>>();

/**
 * The passphrase the engine gets from `env` (engineEnv's): PULUMI_CONFIG_PASSPHRASE, else the file
 * PULUMI_CONFIG_PASSPHRASE_FILE names, as the engine reads it (surrounding whitespace trimmed).
 */
function passphraseIn(env: Record<string, string | undefined>): string | undefined {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  if (!env.PULUMI_CONFIG_PASSPHRASE_FILE) return undefined;
  try {
    return fs.readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, "utf8").trim();
  } catch {
    return undefined;
  }
}

function decryptWith(key: Buffer): Decrypt {
  return (value) => {
    const [version, nonce, sealed, ...rest] = value.split(":");
    if (version !== "v1" || nonce === undefined || sealed === undefined || rest.length > 0) throw new Error("not a passphrase-encrypted value");
    const bytes = Buffer.from(sealed, "base64");
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
  };
}

/** What decrypts the stack's values, given its salt ("v1:<salt>:<check>") and the engine's environment; undefined: ask the engine. */
export function passphraseDecrypter(salt: unknown, env: Record<string, string | undefined>): Promise<Decrypt | undefined> {
  const passphrase = passphraseIn(env);
  if (typeof salt !== "string" || passphrase === undefined) return Promise.resolve(undefined);
  const id = `${salt}\0${passphrase}`;
  let decrypter = keys.get(id);
  if (!decrypter) {
    decrypter = (async () => {
      const [version, saltBytes, ...check] = salt.split(":");
      if (version !== "v1" || !saltBytes || check.length !== 3) return undefined;
      try {
        const decrypt = decryptWith(await pbkdf2Async(passphrase, Buffer.from(saltBytes, "base64"), rounds, 32, "sha256"));
        return decrypt(check.join(":")) === "pulumi" ? decrypt : undefined;
      } catch {
        return undefined; // the passphrase does not open this salt: the engine will say so in its words
      }
    })();
    keys.set(id, decrypter);
  }
  return decrypter;
}
