/**
 * Interfaces: the managed block of a node's /etc/network/interfaces, applied
 * with ifupdown2 and guarded against cutting the management connection.
 *
 * Why SSH-managed stanzas and not the native `proxmoxve.network.linux.*`
 * resources: the corosync network must exist before `pvecm create`, i.e.
 * before any API token exists, and the native resources would need each
 * node's root password in the provider config. Over SSH we also see and keep
 * the whole file (the installer's stanzas, hand-written ones, `source`
 * lines), can adopt the installer's vmbr0 instead of fighting it, validate,
 * back up, roll back, and refuse a change to the management path, none of
 * which the API resources do. And it is testable against the simulator.
 *
 * Apply (only when the composed file differs from the node's; an unchanged
 * file means no write and no ifreload):
 *   1. read the file; compose the new one (block in place, managed
 *      interfaces' stanzas adopted from outside the block);
 *   2. refuse a management change unless `allowManagementChange`;
 *   3. write the candidate next to the file and check it with
 *      `ifup -a --no-act -i <candidate>` (a dry run of the real parser);
 *   4. back up the file (refusing if it changed since step 1), arm a
 *      rollback timer on the node (restores the backup and reloads unless
 *      confirmed within `confirmTimeoutSeconds`, so a change that cuts SSH
 *      heals itself), install the candidate, `ifreload -a`;
 *   5. on a FRESH SSH connection (proof the management path works) check
 *      the management address is still configured, then confirm (disarm).
 *   A failed ifreload or verification restores the backup, reloads it and
 *   fails with the evidence.
 *
 * Delete leaves the stanzas in place and only removes our markers: tearing
 * down a node's network because it left the program would cut it off.
 */
import * as pulumi from "@pulumi/pulumi";
import { readBlock } from "../../managed-block";
import { composeInterfaces, interfaceWithAddress, managementChanges, NETWORK_BLOCK_ID } from "../../network/interfaces-file";
import { parseIpAddrOneline } from "../../network/verify-parse";
import { command, inCLocale, sh } from "../../shell";
import { CommandFailedError, NodeError, SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { blockContent } from "../linux/remote-file";
import { isUnknown } from "../diff";
import { describeError, errorMessage } from "../../errors";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const INTERFACES_PROVIDER_VERSION = "1";

/** Preview placeholder for values not known yet (pulumi/pulumi#6310). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// Provider code uses these module-private names: the closure serializer captures a module's own
// `exports.X` badly (undefined after loading), so the exported names below are aliases only.
const FILE = "/etc/network/interfaces";
const CANDIDATE = "/etc/network/interfaces.homelab-new";
const BACKUP = "/etc/network/interfaces.homelab-bak";
/** Runtime directory of the rollback timer (tmpfs: a reboot disarms it). */
const RUN = "/run/homelab-network";
const ROLLBACK_SCRIPT = `${RUN}/rollback`;
const ARMED = `${RUN}/armed`;
/** Whoever renames ARMED first wins: the provider (confirm) or the node's timer (expire). */
const CONFIRMED = `${RUN}/armed.confirmed`;
const EXPIRED = `${RUN}/armed.expired`;
const ROLLBACK_LOG = `${RUN}/rollback.log`;
/** How long the node waits for our confirmation before restoring the old file. */
const CONFIRM_TIMEOUT_S = 60;

export const INTERFACES_PATH = FILE;
export const CANDIDATE_PATH = CANDIDATE;
export const BACKUP_PATH = BACKUP;
export const RUN_DIR = RUN;
/** Defaults to 60 s: how long the node waits for our confirmation before restoring the old file. */
export const DEFAULT_CONFIRM_TIMEOUT_S = CONFIRM_TIMEOUT_S;

export interface InterfacesInputs extends ConnectionArgs {
  providerVersion: string;
  /** The block's stanzas (rendered by infra/network/interfaces.ts). */
  content: string;
  /** The node's management IPv4 (the address SSH uses): the guard and the verification key on it. */
  managementAddress: string;
  /** Allow changes to the management stanza, its ports/bond and any gateway. Defaults to false. */
  allowManagementChange?: boolean;
  /** Seconds before an unconfirmed apply is rolled back on the node. Defaults to 60. */
  confirmTimeoutSeconds?: number;
}

export type InterfacesOutputs = InterfacesInputs;

/** What an apply did (for tests and logs). */
export interface ApplyResult {
  changed: boolean;
  /** Managed interfaces whose stanzas were moved into the block from elsewhere in the file. */
  adopted: string[];
}

/** The failure of an apply, with what was done about it. */
export class NetworkApplyError extends NodeError {
  constructor(node: string, message: string) {
    super(node, message);
    this.message = `${node}: ${message}`;
    this.name = "NetworkApplyError";
  }
  toString(): string {
    return describeError(this);
  }
}

/** Exit code of our read script for a missing file. */
const MISSING = 3;
/** Exit code of the backup step when the file changed since it was read. */
const CHANGED_SINCE_READ = 4;

async function readInterfaces(session: SshSession): Promise<{ exists: boolean; text: string }> {
  const result = await session.run(sh`if [ ! -e ${FILE} ]; then exit ${MISSING}; fi; cat -- ${FILE}`);
  if (result.code === MISSING) return { exists: false, text: "" };
  if (result.code !== 0) throw new CommandFailedError(session.node, `cat ${FILE}`, result);
  return { exists: true, text: result.stdout };
}

async function sha256(text: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The node-side rollback timer (POSIX sh, uploaded through stdin). It polls
 * once a second, so a confirmation (removing the armed file) ends it within
 * a second and no process needs to be killed.
 */
export function rollbackScript(): string {
  return `#!/bin/sh
# Restores ${FILE} unless Pulumi confirms the new one in time (managed by Pulumi).
# usage: rollback TOKEN SECONDS
token="$1"
secs="$2"
i=0
while [ "$i" -lt "$secs" ]; do
  [ "$(cat ${ARMED} 2>/dev/null)" = "$token" ] || exit 0
  sleep 1
  i=$((i + 1))
done
# Claim the expiry atomically: a confirmation renames the same file.
mv -f ${ARMED} ${EXPIRED} 2>/dev/null || exit 0
[ "$(cat ${EXPIRED} 2>/dev/null)" = "$token" ] || exit 0
cp -p ${BACKUP} ${FILE}
{ echo "no confirmation within $secs s: restored ${BACKUP}"; ifreload -a; } >${ROLLBACK_LOG} 2>&1
`;
}

function managementRefusal(node: string, address: string, changes: string[]): NetworkApplyError {
  return new NetworkApplyError(
    node,
    `refusing to change the management network: the new ${FILE} changes the interfaces that carry ` +
      `${address} (SSH) or the default gateway:\n` +
      changes.map((c) => `  - ${c}`).join("\n") +
      `\nThis can cut the connection to the node. If it is intended, set allowManagementChange: true for ${node} ` +
      `(the node rolls the change back by itself if ${address} is not reachable afterwards), or change the config to match the node.`,
  );
}

/** Converge the node's file to the inputs. */
export async function applyInterfaces(inputs: InterfacesInputs): Promise<ApplyResult> {
  const node = inputs.connection.node;
  const confirmSeconds = inputs.confirmTimeoutSeconds ?? CONFIRM_TIMEOUT_S;
  const token = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

  const prepared = await withSession(
    sshTarget(inputs),
    async (session) => {
      const current = await readInterfaces(session);
      const { text, adopted } = composeInterfaces(current.text, inputs.content, NETWORK_BLOCK_ID);
      if (current.exists && text === current.text) return { changed: false as const, adopted: [] };

      const changes = managementChanges(current.text, text, inputs.managementAddress);
      if (changes.length > 0 && !inputs.allowManagementChange) throw managementRefusal(node, inputs.managementAddress, changes);

      // Candidate, then a dry run of ifupdown2's own parser on it.
      await session.check(sh`umask 022 && cat > ${CANDIDATE}`, { stdin: text });
      const dryRunCmd = inCLocale(command("ifup", "-a", "--no-act", "-i", CANDIDATE));
      const dryRun = await session.run(dryRunCmd);
      if (dryRun.code !== 0) {
        await session.run(command("rm", "-f", "--", CANDIDATE));
        throw new NetworkApplyError(
          node,
          `ifup -a --no-act (dry run of the new ${FILE}) failed (exit ${dryRun.code}): ${output(dryRun)}\n` +
            `  command: ${dryRunCmd}\n  nothing was changed`,
        );
      }

      // Back up exactly the file we composed against (someone may have saved from the GUI meanwhile).
      const hash = await sha256(current.text);
      const backup = current.exists
        ? sh`[ "$(sha256sum < ${FILE} | cut -d' ' -f1)" = ${hash} ] || exit ${CHANGED_SINCE_READ}; cp -p -- ${FILE} ${BACKUP}`
        : sh`[ ! -e ${FILE} ] || exit ${CHANGED_SINCE_READ}; : > ${BACKUP}`;
      const backedUp = await session.run(backup);
      if (backedUp.code === CHANGED_SINCE_READ) {
        await session.run(command("rm", "-f", "--", CANDIDATE));
        throw new NetworkApplyError(node, `${FILE} changed while Pulumi was preparing its update; nothing was changed, run again`);
      }
      if (backedUp.code !== 0) throw new CommandFailedError(node, `cp ${FILE} ${BACKUP}`, backedUp);

      // Arm the rollback timer before anything changes.
      await session.check(
        sh`mkdir -p ${RUN} && cat > ${ROLLBACK_SCRIPT} && printf '%s\n' ${token} > ${ARMED} && ` +
          sh`setsid -f sh ${ROLLBACK_SCRIPT} ${token} ${confirmSeconds} </dev/null >/dev/null 2>&1`,
        { stdin: rollbackScript() },
      );
      await session.check(command("mv", "-f", "--", CANDIDATE, FILE));

      const reloadCmd = inCLocale(command("ifreload", "-a"));
      let reload;
      try {
        reload = await session.run(reloadCmd);
      } catch (err) {
        // The connection died during ifreload: the node's timer restores the old file.
        return { changed: true as const, adopted, lostDuringReload: err as Error };
      }
      if (reload.code !== 0) {
        const restored = await restore(session);
        throw new NetworkApplyError(
          node,
          `ifreload -a failed (exit ${reload.code}): ${output(reload)}\n  command: ${reloadCmd}\n  ${restored}`,
        );
      }
      return { changed: true as const, adopted, text };
    },
    sshOptions(inputs),
  );

  if (!prepared.changed) return { changed: false, adopted: [] };
  if ("lostDuringReload" in prepared && prepared.lostDuringReload) {
    throw await afterLostConnection(inputs, confirmSeconds, `during ifreload -a (${prepared.lostDuringReload.message})`);
  }
  const expectedInterface = "text" in prepared && prepared.text ? interfaceWithAddress(prepared.text, inputs.managementAddress) : undefined;

  // Verify over a NEW connection: this is what proves the management path still works.
  let verified: { ok: true } | { ok: false; evidence: string };
  try {
    verified = await withSession(
      sshTarget(inputs),
      async (session) => {
        const addrCmd = inCLocale(command("ip", "-o", "-4", "addr", "show"));
        const addrs = await session.run(addrCmd);
        const entries = parseIpAddrOneline(addrs.stdout);
        const found = entries.find((e) => e.cidr.split("/")[0] === inputs.managementAddress);
        const ok =
          addrs.code === 0 && found !== undefined && (expectedInterface === undefined || found.interface === expectedInterface);
        if (ok) {
          // Confirm by claiming the armed file; failing means the timer got there first.
          const confirmed = await session.run(sh`mv -- ${ARMED} ${CONFIRMED} && [ "$(cat ${CONFIRMED})" = ${token} ]`);
          if (confirmed.code !== 0) {
            return {
              ok: false as const,
              evidence:
                `the confirmation came too late: the node's rollback timer (${confirmSeconds} s) had already restored ${BACKUP}; ` +
                "raise confirmTimeoutSeconds if ifreload -a takes that long on this node",
            };
          }
          return { ok: true as const };
        }
        const evidence =
          `${addrCmd} (exit ${addrs.code}) shows ` +
          (found
            ? `${inputs.managementAddress} on ${found.interface}, expected on ${expectedInterface}`
            : `no ${inputs.managementAddress}${expectedInterface ? ` (expected on ${expectedInterface})` : ""}`) +
          `:\n${addrs.stdout.trim() || addrs.stderr.trim() || "(no output)"}`;
        const restored = await restore(session);
        return { ok: false as const, evidence: `${evidence}\n  ${restored}` };
      },
      sshOptions(inputs),
    );
  } catch (err) {
    throw await afterLostConnection(inputs, confirmSeconds, `on reconnecting after ifreload -a (${errorMessage(err)})`);
  }
  if (!verified.ok) {
    const what = verified.evidence.startsWith("the confirmation came too late")
      ? `the new ${FILE} is not in effect`
      : `the management address ${inputs.managementAddress} is not up after ifreload -a`;
    throw new NetworkApplyError(node, `${what}: ${verified.evidence}`);
  }
  return { changed: true, adopted: prepared.adopted };
}

/** A command's error output for a message: stderr, else stdout, last lines only. */
function output(result: { stdout: string; stderr: string }): string {
  const text = result.stderr.trim() || result.stdout.trim();
  const lines = text.split("\n");
  return (lines.length > 20 ? lines.slice(-20).join("\n") : text) || "(no output)";
}

/** Put the backup back, reload it, disarm the timer; returns a sentence for the error. */
async function restore(session: SshSession): Promise<string> {
  // Disarm first, so the timer does not restore a second time while we do.
  await session.run(command("rm", "-f", "--", ARMED));
  const copy = await session.run(command("cp", "-p", "--", BACKUP, FILE));
  if (copy.code !== 0) {
    return `restoring ${BACKUP} failed too (exit ${copy.code}): ${copy.stderr.trim()}; the node's rollback timer will retry`;
  }
  const reload = await session.run(inCLocale(command("ifreload", "-a")));
  if (reload.code !== 0) {
    return `restored the previous ${FILE} from ${BACKUP}, but reloading it failed too (exit ${reload.code}): ${reload.stderr.trim()}`;
  }
  return `restored the previous ${FILE} from ${BACKUP} and reloaded it (ifreload -a)`;
}

/** The SSH connection broke after the new file went live: wait for the node's timer, then report. */
async function afterLostConnection(inputs: InterfacesInputs, confirmSeconds: number, when: string): Promise<Error> {
  const node = inputs.connection.node;
  await new Promise((r) => setTimeout(r, (confirmSeconds + 5) * 1000));
  try {
    const log = await withSession(
      sshTarget(inputs),
      async (session) => (await session.run(sh`cat ${ROLLBACK_LOG} 2>/dev/null`)).stdout.trim(),
      sshOptions(inputs),
    );
    const rolledBack = log.startsWith("no confirmation");
    return new NetworkApplyError(
      node,
      rolledBack
        ? `lost the SSH connection ${when}; the node restored the previous ${FILE} by itself ` +
            `after ${confirmSeconds} s and is reachable again. Rollback log: ${log}`
        : `lost the SSH connection ${when}; the node is reachable again but left no rollback log, so it may run ` +
            `the new ${FILE}; check it (backup: ${BACKUP})`,
    );
  } catch (err) {
    return new NetworkApplyError(
      node,
      `lost the SSH connection ${when}, and the node is still unreachable ${confirmSeconds + 5} s later ` +
        `(its rollback timer should have restored ${BACKUP}); check the console. Last error: ${errorMessage(err)}`,
    );
  }
}

export const interfacesProvider: pulumi.dynamic.ResourceProvider<InterfacesInputs, InterfacesOutputs> = {
  async create(inputs) {
    await applyInterfaces(inputs);
    return { id: `${inputs.connection.node}:${FILE}#${NETWORK_BLOCK_ID}`, outs: inputs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const current = await withSession(sshTarget(props), (s) => readInterfaces(s), sshOptions(props));
    const block = current.exists ? readBlock(current.text, NETWORK_BLOCK_ID) : undefined;
    // A missing block (file rewritten by the GUI, or by hand) shows as empty content: the next up re-adopts.
    const actual = block === undefined ? "" : blockContent(block);
    const content = actual === blockContent(props.content) ? props.content : actual;
    return { id, props: { ...props, content } };
  },

  async diff(_id, olds, news) {
    const norm = (i: InterfacesInputs) =>
      JSON.stringify([
        i.content === UNKNOWN ? UNKNOWN : blockContent(i.content ?? ""),
        i.managementAddress,
        i.allowManagementChange ?? false,
        i.confirmTimeoutSeconds ?? CONFIRM_TIMEOUT_S,
        i.providerVersion,
      ]);
    const unknown = isUnknown(news);
    // Another node is another file: create there first, then release this one (delete only drops markers).
    const replaces = olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const changes =
      unknown ||
      replaces.length > 0 ||
      norm(olds) !== norm(news) ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    await applyInterfaces(news);
    return { outs: news };
  },

  async delete(_id, props) {
    await withSession(
      sshTarget(props),
      async (session) => {
        const current = await readInterfaces(session);
        if (!current.exists || readBlock(current.text, NETWORK_BLOCK_ID) === undefined) return;
        const lines = current.text.split("\n");
        const begin = lines.findIndex((l) => l.trim().startsWith(`# BEGIN homelab ${NETWORK_BLOCK_ID}`));
        const end = lines.findIndex((l, i) => i > begin && l.trim() === `# END homelab ${NETWORK_BLOCK_ID}`);
        const kept = lines.filter((_l, i) => i !== begin && i !== end).join("\n");
        // Same stanzas, no markers: nothing for ifupdown2 to reload.
        await session.check(
          sh`umask 022 && cat > ${CANDIDATE} && mv -f -- ${CANDIDATE} ${FILE}`,
          { stdin: kept },
        );
      },
      sshOptions(props),
    );
  },
};

/** Resource inputs as a program passes them. */
export interface InterfacesArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** The managed block's stanzas. */
  content: pulumi.Input<string>;
  /** The node's management IPv4 (what SSH connects to). */
  managementAddress: pulumi.Input<string>;
  /** Allow changing the management stanza, its ports/bond, or a gateway. Defaults to false. */
  allowManagementChange?: pulumi.Input<boolean>;
  /** Seconds before an unconfirmed apply is rolled back on the node. Defaults to 60. */
  confirmTimeoutSeconds?: pulumi.Input<number>;
}

/** Registered as `pulumi-nodejs:dynamic/network:Interfaces`. */
export class Interfaces extends pulumi.dynamic.Resource {
  declare readonly content: pulumi.Output<string>;

  constructor(name: string, args: InterfacesArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      interfacesProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, INTERFACES_PROVIDER_VERSION),
      },
      sshResourceOptions(opts),
      "network",
      "Interfaces",
    );
  }
}
