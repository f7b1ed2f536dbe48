/**
 * GuestHostKey: the SSH host key a VM clone presents, read through the QEMU
 * guest agent over the Proxmox node's pinned SSH (`pvesh get
 * /nodes/<node>/qemu/<vmid>/agent/file-read`), so the first SSH connection
 * to the VM already pins it and no connection trusts an unknown key.
 *
 * cloud-init regenerates the image's host keys on first boot: the key is read
 * only once cloud-init has finished (`/var/lib/cloud/instance/boot-finished`
 * exists), bounded by `timeoutSeconds`. No native resource reads guest files.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseToolJson } from "../../parse/json";
import { isRetryableFailure } from "../../retry";
import { command, inCLocale } from "../../shell";
import { CommandFailedError, openSshFingerprint, SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";
import { type GuestAgentQueryArgs, locateGuest, pollGuestAgent } from "./guest-address";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const GUEST_HOST_KEY_PROVIDER_VERSION = "1";

/**
 * Where cloud-init leaves its mark when the first boot is done, and the key it
 * generated. Not exported: the provider's serialized copy would look them up
 * on `exports`, which it does not carry.
 */
const CLOUD_INIT_DONE = "/var/lib/cloud/instance/boot-finished";
const HOST_KEY_FILE = "/etc/ssh/ssh_host_ed25519_key.pub";

export interface GuestHostKeyInputs extends ConnectionArgs {
  providerVersion: string;
  vmid: number;
  /** VM name, for messages. */
  name: string;
  timeoutSeconds: number;
  pollSeconds: number;
}

export interface GuestHostKeyOutputs extends GuestHostKeyInputs {
  /** `SHA256:…` fingerprint of the VM's ed25519 host key. */
  hostKey: string;
  /** The public key line itself. */
  publicKey: string;
}

type FileAnswer = { content: string } | { missing: true } | { waiting: string };

/** One file of the guest, or why not (yet). Throws on what waiting cannot fix. */
async function readGuestFile(session: SshSession, inputs: GuestHostKeyInputs, runsOn: string, file: string): Promise<FileAnswer> {
  const argv = ["pvesh", "get", `/nodes/${runsOn}/qemu/${inputs.vmid}/agent/file-read`, "--file", file, "--output-format", "json"];
  const r = await session.run(inCLocale(command(...argv)));
  if (r.code === 0) {
    const json = parseToolJson(r.stdout, session.node, "pvesh get …/agent/file-read") as { content?: unknown };
    if (typeof json.content !== "string") throw new Error(`${session.node}: pvesh get …/agent/file-read ${file}: no content in ${r.stdout.slice(0, 200)}`);
    return { content: json.content };
  }
  if (/No such file or directory/.test(r.stderr)) return { missing: true };
  if (/No QEMU guest agent configured/.test(r.stderr)) {
    throw new Error(`${session.node}: VM ${inputs.vmid} (${inputs.name}) has no QEMU guest agent configured (agent: enabled=1), so its host key cannot be read`);
  }
  if (isRetryableFailure(r)) return { waiting: r.stderr.trim() };
  throw new CommandFailedError(session.node, command(...argv), r);
}

/** The host key once cloud-init is done, or why not yet. */
async function ask(session: SshSession, inputs: GuestHostKeyInputs): Promise<{ publicKey?: string; waiting: string }> {
  const runsOn = await locateGuest(session, inputs.vmid);
  if (!runsOn) throw new Error(`${session.node}: VM ${inputs.vmid} (${inputs.name}) does not exist in the cluster`);
  const done = await readGuestFile(session, inputs, runsOn, CLOUD_INIT_DONE);
  if ("waiting" in done) return { waiting: done.waiting };
  if ("missing" in done) return { waiting: `cloud-init has not finished (no ${CLOUD_INIT_DONE})` };
  const key = await readGuestFile(session, inputs, runsOn, HOST_KEY_FILE);
  if ("waiting" in key) return { waiting: key.waiting };
  if ("missing" in key) throw new Error(`${runsOn}: VM ${inputs.vmid} (${inputs.name}) has no ${HOST_KEY_FILE} after cloud-init finished; its image must generate an ed25519 host key`);
  return { publicKey: key.content.trim(), waiting: "" };
}

async function waitForHostKey(inputs: GuestHostKeyInputs): Promise<Pick<GuestHostKeyOutputs, "hostKey" | "publicKey">> {
  return pollGuestAgent(inputs, "host key through the guest agent", async (session) => {
    const answer = await ask(session, inputs);
    const value = answer.publicKey ? { publicKey: answer.publicKey, hostKey: openSshFingerprint(answer.publicKey) } : undefined;
    return { value, waiting: answer.waiting, node: session.node };
  });
}

export const guestHostKeyProvider: pulumi.dynamic.ResourceProvider<GuestHostKeyInputs, GuestHostKeyOutputs> = {
  async create(inputs) {
    return { id: `vm/${inputs.vmid}/host-key`, outs: { ...inputs, ...(await waitForHostKey(inputs)) } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return withSession(
      sshTarget(props),
      async (session) => {
        if (!(await locateGuest(session, props.vmid))) return { id: "", props };
        const answer = await ask(session, props);
        // A guest that does not answer right now tells nothing about drift: keep what was seen.
        if (!answer.publicKey) return { id, props };
        return { id, props: { ...props, publicKey: answer.publicKey, hostKey: openSshFingerprint(answer.publicKey) } };
      },
      sshOptions(props),
    );
  },

  async diff(_id, olds, news) {
    const replaces = olds.vmid !== news.vmid || isUnknown(news.vmid) ? ["vmid"] : [];
    const changes =
      replaces.length > 0 ||
      olds.name !== news.name ||
      olds.timeoutSeconds !== news.timeoutSeconds ||
      olds.pollSeconds !== news.pollSeconds ||
      olds.providerVersion !== news.providerVersion ||
      stableJson(olds.connection) !== stableJson(news.connection);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  // A refresh that saw a new key (a reinstalled guest) updates the pin: read it again.
  async update(_id, _olds, news) {
    return { outs: { ...news, ...(await waitForHostKey(news)) } };
  },

  // Nothing on the node belongs to this resource.
  async delete() {},
};

/** Resource inputs as a program passes them. */
export type GuestHostKeyArgs = GuestAgentQueryArgs;

/** Registered as `pulumi-nodejs:dynamic/vm:GuestHostKey`. */
export class GuestHostKey extends pulumi.dynamic.Resource {
  declare readonly hostKey: pulumi.Output<string>;
  declare readonly publicKey: pulumi.Output<string>;

  constructor(name: string, args: GuestHostKeyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      guestHostKeyProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, GUEST_HOST_KEY_PROVIDER_VERSION),
        timeoutSeconds: args.timeoutSeconds ?? 300,
        pollSeconds: args.pollSeconds ?? 5,
        hostKey: undefined,
        publicKey: undefined,
      },
      sshResourceOptions(opts),
      "vm",
      "GuestHostKey",
    );
  }
}
