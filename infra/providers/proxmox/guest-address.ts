/**
 * GuestAddress: wait, bounded, until a VM's QEMU guest agent reports an IPv4
 * address, and output it.
 *
 * The native VmLegacy lists every address of every interface (loopback
 * included) and gives up with the provider's own message; this resource picks
 * the address that matters (the configured static one, else the first usable
 * one on the VM's first NIC), re-locates the VM on every poll (HA may move it
 * while it boots), and fails with the node, the VMID and the agent's last
 * answer. Through the API (`pvesh get /nodes/<node>/qemu/<vmid>/agent/…`), so
 * any cluster member can ask wherever the VM runs.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseGuests } from "../../parse/cluster";
import { parseGuestInterfaces, pickAddress, usableAddresses } from "../../parse/guest-agent";
import { parseToolJson } from "../../parse/json";
import { command, inCLocale } from "../../shell";
import { CommandFailedError, SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { isUnknown, sleep, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";
import { isRetryableFailure } from "../../retry";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const GUEST_ADDRESS_PROVIDER_VERSION = "1";

export interface GuestAddressInputs extends ConnectionArgs {
  providerVersion: string;
  vmid: number;
  /** VM name, for messages. */
  name: string;
  /** MAC of the NIC whose address is wanted (net0). */
  mac?: string;
  /** The static address configured by cloud-init (no prefix): wait until the guest has this one. */
  expected?: string;
  /** Give up after this long. */
  timeoutSeconds: number;
  /** Seconds between two questions to the agent. */
  pollSeconds: number;
}

export interface GuestAddressOutputs extends GuestAddressInputs {
  /** Node the VM ran on when last asked. */
  runsOn: string;
  address: string;
  /** Every usable IPv4 address the guest reports. */
  addresses: string[];
}

interface Answer {
  runsOn: string;
  address?: string;
  addresses: string[];
  /** Why there is no address (yet). */
  waiting?: string;
}

/** The node a VM runs on now (HA may move it), or undefined when the cluster has no such VM. */
export async function locateGuest(session: SshSession, vmid: number): Promise<string | undefined> {
  const out = await session.check(inCLocale(command("pvesh", "get", "/cluster/resources", "--type", "vm", "--output-format", "json")));
  return parseGuests(out.stdout, session.node).find((g) => g.vmid === vmid)?.node;
}

/** One question: where the VM runs and what its agent reports. Throws on what waiting cannot fix. */
async function ask(session: SshSession, inputs: GuestAddressInputs): Promise<Answer | undefined> {
  const runsOn = await locateGuest(session, inputs.vmid);
  if (!runsOn) return undefined;
  const argv = ["pvesh", "get", `/nodes/${runsOn}/qemu/${inputs.vmid}/agent/network-get-interfaces`, "--output-format", "json"];
  const r = await session.run(inCLocale(command(...argv)));
  if (r.code !== 0) {
    if (/No QEMU guest agent configured/.test(r.stderr)) {
      throw new Error(`${session.node}: VM ${inputs.vmid} (${inputs.name}) has no QEMU guest agent configured (agent: enabled=1), so it cannot report an address`);
    }
    // "Not yet" (pve-cli.md §3.10): the VM is booting or its agent starting.
    if (isRetryableFailure(r)) return { runsOn, addresses: [], waiting: r.stderr.trim() };
    throw new CommandFailedError(session.node, command(...argv), r);
  }
  const interfaces = parseGuestInterfaces(parseToolJson(r.stdout, session.node, "pvesh get …/agent/network-get-interfaces"));
  const addresses = usableAddresses(interfaces);
  const address = pickAddress(interfaces, { mac: inputs.mac, expected: inputs.expected });
  if (address) return { runsOn, address, addresses };
  const has = addresses.length ? `it has ${addresses.join(", ")}` : "it reports no usable IPv4 address";
  return { runsOn, addresses, waiting: inputs.expected ? `${has}, expected ${inputs.expected}` : has };
}

/**
 * Ask a VM's guest agent until `ask` has the answer, or fail after
 * `timeoutSeconds` naming the node, the VM, what was waited for and the last
 * answer. Shared by the resources that wait on a guest (address, host key).
 */
export async function pollGuestAgent<T>(
  inputs: ConnectionArgs & { vmid: number; name: string; timeoutSeconds: number; pollSeconds: number },
  what: string,
  ask: (session: SshSession) => Promise<{ value?: T; waiting: string; node: string }>,
): Promise<T> {
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const deadline = Date.now() + inputs.timeoutSeconds * 1000;
      for (;;) {
        const answer = await ask(session);
        if (answer.value !== undefined) return answer.value;
        if (Date.now() + inputs.pollSeconds * 1000 > deadline) {
          throw new Error(`${answer.node}: VM ${inputs.vmid} (${inputs.name}): no ${what} within ${inputs.timeoutSeconds} s; last answer: ${answer.waiting}`);
        }
        await sleep(inputs.pollSeconds * 1000);
      }
    },
    sshOptions(inputs),
  );
}

/** Poll until the agent reports the address, or fail after `timeoutSeconds` with its last answer. */
export async function waitForAddress(inputs: GuestAddressInputs): Promise<Pick<GuestAddressOutputs, "runsOn" | "address" | "addresses">> {
  return pollGuestAgent(inputs, "IPv4 address from the guest agent", async (session) => {
    const answer = await ask(session, inputs);
    if (!answer) throw new Error(`${session.node}: VM ${inputs.vmid} (${inputs.name}) does not exist in the cluster`);
    const value = answer.address ? { runsOn: answer.runsOn, address: answer.address, addresses: answer.addresses } : undefined;
    return { value, waiting: answer.waiting ?? "", node: answer.runsOn };
  });
}

export const guestAddressProvider: pulumi.dynamic.ResourceProvider<GuestAddressInputs, GuestAddressOutputs> = {
  async create(inputs) {
    const found = await waitForAddress(inputs);
    return { id: `vm/${inputs.vmid}`, outs: { ...inputs, ...found } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return withSession(
      sshTarget(props),
      async (session) => {
        const answer = await ask(session, props);
        if (!answer) return { id: "", props };
        // An agent that does not answer right now tells nothing about drift: keep what was seen.
        if (answer.waiting && answer.addresses.length === 0) return { id, props: { ...props, runsOn: answer.runsOn } };
        const address = answer.address ?? answer.addresses[0] ?? props.address;
        return { id, props: { ...props, runsOn: answer.runsOn, address, addresses: answer.addresses } };
      },
      sshOptions(props),
    );
  },

  async diff(_id, olds, news) {
    const replaces = olds.vmid !== news.vmid || isUnknown(news.vmid) ? ["vmid"] : [];
    const changes =
      replaces.length > 0 ||
      isUnknown(news.mac) ||
      isUnknown(news.expected) ||
      (olds.mac ?? "") !== (news.mac ?? "") ||
      (olds.expected ?? "") !== (news.expected ?? "") ||
      // a refresh found the guest without its static address: wait for it again
      (!!news.expected && olds.address !== news.expected) ||
      olds.timeoutSeconds !== news.timeoutSeconds ||
      olds.pollSeconds !== news.pollSeconds ||
      olds.name !== news.name ||
      olds.providerVersion !== news.providerVersion ||
      stableJson(olds.connection) !== stableJson(news.connection);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const found = await waitForAddress(news);
    return { outs: { ...news, ...found } };
  },

  // Nothing on the node belongs to this resource.
  async delete() {},
};

/** What a program passes to a resource that waits on a VM's guest agent. */
export interface GuestAgentQueryArgs {
  /** Any cluster member (the API finds the VM's node). */
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  vmid: pulumi.Input<number>;
  /** VM name, for messages. */
  name: pulumi.Input<string>;
  /** Defaults to 300. */
  timeoutSeconds?: pulumi.Input<number>;
  /** Defaults to 5. */
  pollSeconds?: pulumi.Input<number>;
}

/** Resource inputs as a program passes them. */
export interface GuestAddressArgs extends GuestAgentQueryArgs {
  /** MAC of net0. Defaults to any NIC. */
  mac?: pulumi.Input<string | undefined>;
  /** Static address (no prefix) to wait for. Defaults to whatever the guest gets (DHCP). */
  expected?: pulumi.Input<string | undefined>;
}

/** Registered as `pulumi-nodejs:dynamic/vm:GuestAddress`. */
export class GuestAddress extends pulumi.dynamic.Resource {
  declare readonly address: pulumi.Output<string>;
  declare readonly addresses: pulumi.Output<string[]>;
  declare readonly runsOn: pulumi.Output<string>;

  constructor(name: string, args: GuestAddressArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      guestAddressProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, GUEST_ADDRESS_PROVIDER_VERSION),
        timeoutSeconds: args.timeoutSeconds ?? 300,
        pollSeconds: args.pollSeconds ?? 5,
        runsOn: undefined,
        address: undefined,
        addresses: undefined,
      },
      sshResourceOptions(opts),
      "vm",
      "GuestAddress",
    );
  }
}
