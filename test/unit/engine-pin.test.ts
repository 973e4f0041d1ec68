import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ENGINE_VERSION, MIN_GO_VERSION, NODEJS_HOST_SDK_VERSION } from "../../cli/engine/pin.ts";
import { projectRoot } from "../../model/paths.ts";

const goMod = (module: string) => fs.readFileSync(path.join(projectRoot, "cli/engine/go", module, "go.mod"), "utf8");
const requiredVersion = (mod: string, modulePath: string) =>
  mod.match(new RegExp(`^\\s*${modulePath.replaceAll(".", "\\.")} v(\\S+)`, "m"))?.[1];

describe("engine pin", () => {
  it("matches the engine wrapper module's pulumi requirements", () => {
    const mod = goMod("engine");
    expect(requiredVersion(mod, "github.com/pulumi/pulumi/pkg/v3")).toBe(ENGINE_VERSION);
    expect(requiredVersion(mod, "github.com/pulumi/pulumi/sdk/v3")).toBe(ENGINE_VERSION);
    // pkg/v3's own go.mod carries this replace; without it the build resolves another clipboard.
    expect(mod).toMatch(/replace github\.com\/atotto\/clipboard => github\.com\/tgummerer\/clipboard /);
    expect(mod).toMatch(/^tool github\.com\/pulumi\/pulumi\/pkg\/v3\/cmd\/pulumi$/m);
  });

  it("matches the language host wrapper module's sdk requirement", () => {
    const mod = goMod("langhost");
    expect(requiredVersion(mod, "github.com/pulumi/pulumi/sdk/v3")).toBe(NODEJS_HOST_SDK_VERSION);
    expect(mod).toMatch(/^tool github\.com\/pulumi\/pulumi\/sdk\/v3\/nodejs\/cmd\/pulumi-language-nodejs$/m);
  });

  it("asks for at least the Go release the engine module declares", () => {
    const goLine = goMod("engine").match(/^go (\d+\.\d+)/m)?.[1];
    expect(goLine).toBe(MIN_GO_VERSION);
  });
});
