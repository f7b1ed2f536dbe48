/**
 * SshReady: wait, bounded, until a new machine answers SSH with the host key
 * it was given, accepts the key, and has finished cloud-init; then output the
 * host key it answered with.
 *
 * A fresh cloud machine refuses or resets connections while it boots, and
 * its authorized keys arrive with cloud-init, so every such failure is
 * retried until the deadline; the error then names the host and the last
 * failure. With `trustOnFirstUse` (and no pinned key) the first key the host
 * presents is recorded and pinned from then on (`read` and every later
 * connection use it): only for machines on a private lab network.
 */
import * as pulumi from "@pulumi/pulumi";
import { command } from "../../shell";
import { withSession } from "../../ssh";
import { CONNECTION_SECRET_OUTPUTS, ConnectionArgs, type ConnectionInput, sshOptions, sshTarget } from "../connection";
import { sleep } from "../diff";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const SSH_READY_PROVIDER_VERSION = "1";

export interface SshReadyInputs extends ConnectionArgs {
  providerVersion: string;
  /** Give up after this long. */
  timeoutSeconds: number;
  /** Seconds between two attempts. */
  pollSeconds: number;
  /** Accept and record the first host key when connection.hostKey is not set. */
  trustOnFirstUse: boolean;
}

export interface SshReadyOutputs extends SshReadyInputs {
  /** `SHA256:` fingerprint of the host key the host answered with. */
  hostKey: string;
}

/** One attempt: connect (pinned, or recording the key on first use), wait for cloud-init, return the key. */
async function attempt(inputs: SshReadyInputs, pinned: string | undefined): Promise<string> {
  const target = { ...sshTarget(inputs), hostKey: pinned, insecureIgnoreHostKey: pinned === undefined && inputs.trustOnFirstUse };
  return withSession(
    target,
    async (session) => {
      // Packages installed while cloud-init still runs apt would fight it for the dpkg lock.
      // Exit 2 is "done, with recoverable errors"; the host is usable.
      const r = await session.run(command("sh", "-c", "command -v cloud-init >/dev/null 2>&1 || exit 0; cloud-init status --wait >/dev/null"));
      if (r.code !== 0 && r.code !== 2) {
        throw new Error(`${inputs.connection.node}: cloud-init status --wait failed (exit ${r.code}): ${(r.stderr || r.stdout).trim() || "(no output)"}`);
      }
      return session.presentedHostKey;
    },
    { ...sshOptions(inputs), retries: 0 },
  );
}

/** Retry until the deadline; fail naming the host, its address and the last failure. */
export async function waitForSsh(inputs: SshReadyInputs, pinned: string | undefined): Promise<string> {
  const c = inputs.connection;
  if (pinned === undefined && !inputs.trustOnFirstUse) {
    throw new Error(`${c.node}: no pinned host key, and trustOnFirstUse is off; refusing to trust an unknown key`);
  }
  const deadline = Date.now() + inputs.timeoutSeconds * 1000;
  let last = "no attempt";
  for (;;) {
    try {
      return await attempt(inputs, pinned);
    } catch (err) {
      last = (err as Error).message;
      // A key this host can never accept will not start working by waiting.
      if (/unusable SSH private key|no SSH private key/.test(last)) throw err;
    }
    if (Date.now() + inputs.pollSeconds * 1000 > deadline) break;
    await sleep(inputs.pollSeconds * 1000);
  }
  throw new Error(`${c.node}: SSH on ${c.host}:${c.port} was not ready within ${inputs.timeoutSeconds} s; last attempt: ${last}`);
}

export const sshReadyProvider: pulumi.dynamic.ResourceProvider<SshReadyInputs, SshReadyOutputs> = {
  async create(inputs) {
    const hostKey = await waitForSsh(inputs, inputs.connection.hostKey);
    return { id: inputs.connection.node, outs: { ...inputs, hostKey } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    // Pinned to the key recorded at creation: a host that now presents another one is refused.
    const hostKey = await waitForSsh({ ...props, timeoutSeconds: Math.min(props.timeoutSeconds, 60) }, props.hostKey);
    return { id, props: { ...props, hostKey } };
  },

  async diff(_id, olds, news) {
    // Another machine (address, name, pinned key) must be waited for again from scratch.
    const replaces = (["node", "host", "hostKey"] as const).some((k) => olds.connection?.[k] !== news.connection?.[k]) ? ["connection"] : [];
    const changes =
      replaces.length > 0 ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection) ||
      olds.providerVersion !== news.providerVersion ||
      olds.trustOnFirstUse !== news.trustOnFirstUse;
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, olds, news) {
    const hostKey = await waitForSsh(news, news.connection.hostKey ?? olds.hostKey);
    return { outs: { ...news, hostKey } };
  },

  async delete() {
    // Nothing was changed on the host.
  },
};

/** Resource inputs as a program passes them. */
export interface SshReadyArgs {
  connection: pulumi.Input<ConnectionInput>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Give up after this long. Defaults to 600 s (a cloud machine's first boot). */
  timeoutSeconds?: number;
  /** Seconds between two attempts. Defaults to 5. */
  pollSeconds?: number;
  /** Record the first key when connection.hostKey is unset. Defaults to false: an unknown key is refused. */
  trustOnFirstUse?: boolean;
}

/** Registered as `pulumi-nodejs:dynamic/linux:SshReady`. */
export class SshReady extends pulumi.dynamic.Resource {
  /** The host key the host answered with: the pinned one, or the one recorded on first use. */
  declare readonly hostKey: pulumi.Output<string>;

  constructor(name: string, args: SshReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      sshReadyProvider,
      name,
      {
        ...args,
        sshPrivateKey: args.sshPrivateKey === undefined ? undefined : pulumi.secret(args.sshPrivateKey),
        timeoutSeconds: args.timeoutSeconds ?? 600,
        pollSeconds: args.pollSeconds ?? 5,
        trustOnFirstUse: args.trustOnFirstUse ?? false,
        providerVersion: SSH_READY_PROVIDER_VERSION,
        hostKey: undefined,
      },
      { ...opts, additionalSecretOutputs: [...CONNECTION_SECRET_OUTPUTS, ...(opts?.additionalSecretOutputs ?? [])] },
      "linux",
      "SshReady",
    );
  }
}
