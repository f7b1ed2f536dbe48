/**
 * Plain Linux hosts that exist already (a Raspberry Pi, a NUC, any machine
 * reachable over SSH): the schema of `hosts` and their checks. They get the
 * host baseline and can serve a K3s cluster; nothing Proxmox touches them.
 */
import { bool, hostName, integer, ipv4, mapping, oneOf, text } from "./fields";
import { show } from "./messages";
import { isHostKey, isLabel, isLinuxUser, isRecord } from "./predicates";
import type { PathIssue } from "./views";

/** CPU architectures a host can have (K3s is pinned for amd64 and arm64 only: stacks/schema/k3s.ts). */
export const HOST_ARCHES = ["amd64", "arm64", "armhf"] as const;
/** Distributions whose package manager the baseline drives. */
export const HOST_DISTROS = ["debian", "ubuntu", "raspbian", "rocky", "alma"] as const;

export const HostSchema = mapping(
  {
    /** The host's name (RFC 1123 label), used in every message and as its K3s node name. */
    name: hostName(),
    /** IPv4 address SSH reaches it on. */
    address: ipv4(),
    /** Pinned SSH host key fingerprint: `ssh-keyscan -t ed25519 <address> | ssh-keygen -lf -`. */
    hostKey: text('a host key fingerprint ("SHA256:" and 43 base64 characters)', isHostKey),
    /** Login user with root rights over SSH. Defaults to ssh.user. */
    sshUser: text("a Linux user name", isLinuxUser).optional(),
    /** SSH port. Defaults to ssh.port. */
    sshPort: integer("a TCP port", 1, 65535).optional(),
    /** CPU architecture. Defaults to amd64. */
    arch: oneOf(HOST_ARCHES, "an architecture").default("amd64"),
    /** Distribution. Defaults to debian. */
    distro: oneOf(HOST_DISTROS, "a distribution").default("debian"),
    /** Give it the baseline (packages, users, /etc/hosts). Defaults to true. */
    baseline: bool().default(true),
  },
  "a host (a mapping with name, address and hostKey)",
);

/** Host names are unique, and no host shares a name with a Proxmox node, a Linode instance or a VM. */
export function checkHostNames(value: Record<string, unknown>): PathIssue[] {
  const issues: PathIssue[] = [];
  const owners = new Map<string, string>();
  const claim = (name: unknown, path: (string | number)[], what: string) => {
    if (!isLabel(name)) return;
    const first = owners.get(name);
    // Two nodes or two VMs of one name are their own checks' business.
    const sameList = first !== undefined && first.split("[")[0] === what.split("[")[0] && (what.startsWith("nodes") || what.startsWith("vms"));
    if (first !== undefined && !sameList) issues.push({ path, message: `${show(name)} is already the name of ${first}` });
    else if (first === undefined) owners.set(name, what);
  };
  const each = (list: unknown, f: (item: Record<string, unknown>, i: number) => void) => {
    if (Array.isArray(list)) list.forEach((item, i) => isRecord(item) && f(item, i));
  };
  each(value.nodes, (n, i) => claim(n.name, ["nodes", i, "name"], `nodes[${i}]`));
  each(value.vms, (v, i) => claim(v.name, ["vms", i, "name"], `vms[${i}]`));
  each(value.hosts, (h, i) => claim(h.name, ["hosts", i, "name"], `hosts[${i}]`));
  const linode = isRecord(value.linode) ? value.linode : {};
  each(linode.instances, (h, i) => claim(h.label, ["linode", "instances", i, "label"], `linode.instances[${i}]`));
  return issues;
}

