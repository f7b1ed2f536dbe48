import * as path from "node:path";

/** The policy pack's folder, for `--policy-pack` (and `policyPacks` of the Automation API's preview/up). */
export function policyPackPath(): string {
  return path.resolve(__dirname);
}
