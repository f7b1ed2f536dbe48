/**
 * `npm run trust-ca -- <stack> [--identity <private key file>]`
 *
 * Fetches the cluster CA from the stack's first node (the API node) over SSH
 * with its pinned host key, checks that the node's API certificate is signed
 * by it and names the API address, and writes `.homelab/ca/<stack>.pem` (the
 * system CAs plus the cluster CA) for SSL_CERT_FILE: the way to verify a
 * fresh node's API without `insecureTls`. `npm run homelab` sets
 * SSL_CERT_FILE itself when the bundle exists.
 *
 * SSH key: `--identity <file>` (the key stored in secrets.sshPrivateKey), else
 * the SSH agent ($SSH_AUTH_SOCK). Exit 0 when written (problems are printed
 * as warnings), 1 when it cannot fetch, 2 on wrong usage.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { caBundlePath, caBundleText, certificateProblems, fetchClusterCa, systemCaBundle, writeCaBundle } from "../infra/pve-ca";
import { quote } from "../infra/shell";
import { sshTarget } from "../infra/providers/connection";
import { nodeConnection } from "../stacks/connections";
import { REPO_ROOT, validateStackFile } from "../stacks/stack-file";

const USAGE = "usage: npm run trust-ca -- <stack name | path to Pulumi.<stack>.yaml> [--identity <private key file>]";

export interface TrustCaOptions {
  /** Folder with the stack files and `.homelab/`. Defaults to the repository root. */
  workDir?: string;
  /** Environment (SSH_AUTH_SOCK, SSL_CERT_FILE). Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The stack name of `matrix` or `path/to/Pulumi.matrix.yaml`. */
export function stackNameOf(arg: string): string | undefined {
  if (/^[A-Za-z0-9_.-]+$/.test(arg) && !/\.ya?ml$/i.test(arg)) return arg;
  return /^Pulumi\.([A-Za-z0-9_.-]+)\.ya?ml$/.exec(path.basename(arg))?.[1];
}

export async function main(argv: string[], out: (line: string) => void, err: (line: string) => void, opts: TrustCaOptions = {}): Promise<number> {
  const workDir = opts.workDir ?? REPO_ROOT;
  const env = opts.env ?? process.env;
  const args = [...argv];
  let identity: string | undefined;
  const at = args.indexOf("--identity");
  if (at >= 0) {
    identity = args[at + 1];
    args.splice(at, 2);
  }
  const stack = args.length === 1 && !args[0].startsWith("-") ? stackNameOf(args[0]) : undefined;
  if (stack === undefined || (at >= 0 && !identity)) {
    err(USAGE);
    return 2;
  }

  const result = validateStackFile(args[0], workDir);
  if (result.issues.length > 0 || !result.environment) {
    for (const line of result.issues) err(line);
    return 1;
  }
  const environment = result.environment;
  // The program's API is the founder's (stacks/layers/api.ts).
  const apiNode = environment.nodes[0];
  const connection = nodeConnection(environment, apiNode);
  let privateKey: string | undefined;
  if (identity !== undefined) {
    try {
      privateKey = fs.readFileSync(identity, "utf8");
    } catch (e) {
      err(`--identity ${identity}: cannot read the key (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return 1;
    }
  }
  const agent = privateKey === undefined ? (connection.agentSocket ?? env.SSH_AUTH_SOCK) : undefined;
  if (privateKey === undefined && !agent) {
    err(`${apiNode.name}: no SSH key: pass --identity <file> (the key in secrets.sshPrivateKey) or start an SSH agent`);
    return 1;
  }

  let files;
  try {
    files = await fetchClusterCa({ ...sshTarget({ connection, sshPrivateKey: privateKey }), agent }, connection.options);
  } catch (e) {
    err((e as Error).message);
    return 1;
  }
  // The host the native provider verifies: apiAccess.apiHost when set (stacks/layers/api.ts).
  for (const problem of certificateProblems(files, environment.apiAccess?.apiHost ?? apiNode.address)) err(`warning: ${problem}`);

  const file = caBundlePath(stack, workDir);
  writeCaBundle(file, caBundleText(systemCaBundle(env), files, stack));
  out(`${stack}: cluster CA of ${apiNode.name} (${apiNode.address}, host key ${connection.hostKey}) added to the system CAs in ${file}`);
  out(`export SSL_CERT_FILE=${quote(file)}`);
  return 0;
}

if (require.main === module) {
  void main(
    process.argv.slice(2),
    (line) => console.log(line),
    (line) => console.error(line),
  ).then((code) => (process.exitCode = code));
}
