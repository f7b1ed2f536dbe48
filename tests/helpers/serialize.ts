/**
 * Serializes a dynamic provider exactly as `pulumi up` does: in a separate
 * Node process with ts-node (the CLI's TypeScript loader), through
 * `pulumi.runtime.serializeFunction`. Then loads the text the way the
 * engine's dynamic-provider host does (require-from-string + `.handler()`).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";

const ROOT = path.resolve(__dirname, "../..");

export interface SerializedProvider {
  text: string;
  containsSecrets: boolean;
  /** The provider as the engine would run it. */
  load(): pulumi.dynamic.ResourceProvider;
}

export function serializeProvider(modulePath: string, exportName: string): SerializedProvider {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-serialize-"));
  try {
    const outFile = path.join(dir, "provider.json");
    const script = `
      const pulumi = require("@pulumi/pulumi");
      const mod = require(${JSON.stringify(path.resolve(ROOT, modulePath))});
      const provider = mod[${JSON.stringify(exportName)}];
      if (!provider) throw new Error("no export ${exportName}");
      pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })
        .then((sf) => require("fs").writeFileSync(${JSON.stringify(outFile)},
          JSON.stringify({ text: sf.text, exportName: sf.exportName, containsSecrets: sf.containsSecrets })))
        .catch((e) => { console.error(e && e.message || e); process.exit(1); });
    `;
    execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
    });
    const { text, exportName: fn, containsSecrets } = JSON.parse(fs.readFileSync(outFile, "utf8"));
    return {
      text,
      containsSecrets,
      load() {
        // require-from-string with no filename, as @pulumi/pulumi/cmd/dynamic-provider does.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const requireFromString = require("require-from-string");
        const mod = requireFromString(text);
        return mod[fn]();
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
