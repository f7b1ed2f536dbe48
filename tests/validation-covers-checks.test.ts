/**
 * What validates must apply: every refusal a dynamic provider's `check` or a
 * component constructor can make for a reason the stack file alone decides is
 * made first by `npm run validate` (the schema), with the path of the field to
 * fix. A stack file the schema accepts must not fail at `up` in a check, after
 * the baseline, networks and cluster have already changed every node.
 *
 * One row per refusal: a change to a valid stack file's environment (matrix or
 * ms01) that the schema must reject at `path`, and that the provider's check
 * (called directly on the inputs the composition builds, as stacks/layers do)
 * or the component's constructor (under mocks) refuses.
 *
 * LEFT_OUT names, per refusal statement, why it has no row: the composition
 * never produces the value (the Ceph repository, a pool's osdHosts and
 * crushRule, resource IDs, monAddress of a non-monitor, link addresses it
 * refuses to look up), the schema's own shape rules it out (no nodes, a node
 * twice), it only passes on another site's refusals (which have their rows), or
 * it is live state the node decides in create/update (the detected Proxmox
 * major's repositories and privileges). Live-state refusals outside check
 * (missing or mounted devices, quorum, monitor addresses not on the node, a
 * pool change Ceph cannot apply to the stored state) are not scanned at all.
 *
 * The last tests hold the table to the sources: every refusal statement of a
 * site needs a row or a LEFT_OUT reason, no key may be stale, and every
 * component that refuses and every provider with a check must be a site (or
 * in UNLISTED, with why).
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ApiAccess } from "../components/api-access";
import { CephCluster } from "../components/ceph-cluster";
import { CephPools } from "../components/ceph-pools";
import { ClusterFirewall } from "../components/cluster-firewall";
import { GuestNetworks } from "../components/guest-networks";
import { HaPlacementComponent } from "../components/ha";
import { k3sClusterProblems, type K3sHost } from "../components/k3s-cluster";
import { NodeBaseline } from "../components/node-baseline";
import { NodeNetwork } from "../components/node-network";
import { ProxmoxCluster } from "../components/proxmox-cluster";
import { TalosCluster } from "../components/talos-cluster";
import { ThunderboltRing } from "../components/thunderbolt-ring";
import { firewallPlan } from "../infra/firewall-plan";
import { cephClusterProvider, type CephClusterInputs } from "../infra/providers/ceph/ceph-cluster";
import { cephOsdsProvider } from "../infra/providers/ceph/ceph-osd";
import { cephPoolProvider } from "../infra/providers/ceph/ceph-pool";
import { k3sClusterProvider } from "../infra/providers/k3s/k3s-cluster";
import { cloudTemplateProvider } from "../infra/providers/proxmox/cloud-template";
import { pveInstallProvider } from "../infra/providers/proxmox/pve-install";
import { kernelSettingsProvider } from "../infra/providers/linux/kernel-settings";
import { sysctlFilePath } from "../infra/kernel-settings";
import { pveInstallSource } from "../infra/pve-install";
import { clusterProvider, type ClusterInputs } from "../infra/providers/proxmox/cluster";
import { qdeviceProvider } from "../infra/providers/proxmox/qdevice";
import { environmentIssues, parseEnvironment } from "../stacks/errors";
import { hostEntries } from "../stacks/layers/nodes";
import { clusterLinkAddresses, networkByName, nodeAddressOn, vmVmid } from "../stacks/lookup";
import type { Environment } from "../stacks/schema";
import { prepareStack, stackConfig } from "./helpers/pulumi-mocks";

const ROOT = path.resolve(__dirname, "..");
const STACK_FILES = {
  matrix: path.join(ROOT, "Pulumi.matrix.yaml"),
  ms01: path.join(ROOT, "Pulumi.ms01.yaml"),
  nexus: path.join(ROOT, "Pulumi.nexus.yaml"),
} as const;
type Base = keyof typeof STACK_FILES;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Env = any;

interface Row {
  /** The refusal site (SITES). */
  site: string;
  /** Text of the refusal statement in the site's source that this row triggers. */
  key: string;
  what: string;
  base?: Base;
  /** Applied to the raw stack file environment and to the parsed one (defaults filled in). */
  mutate: (env: Env) => void;
  /** Where validation must report it. */
  path: string;
  /** What the component or the provider's check says about the same environment. */
  refusal: RegExp;
}

const node = (env: Env, i: number) => env.nodes[i];
const iface = (env: Env, n: number, name: string) => node(env, n).interfaces.find((x: Env) => x.name === name);
const port = (env: Env, n: number, name: string) => node(env, n).thunderbolt.ports.find((x: Env) => x.name === name);

const talos = (env: Env) => env.talos.clusters[0];

const ROWS: Row[] = [
  // The Talos cluster component (talosClusterProblems), on ms01's cluster.
  { site: "talos-cluster#talosClusterProblems", key: "`controlPlanes: ${cps} given", what: "an even number of control planes", base: "ms01", mutate: (e) => talos(e).controlPlanes.pop(), path: "talos.clusters[0].controlPlanes", refusal: /controlPlanes: 2 given; give 1, or an odd number/ },
  { site: "talos-cluster#talosClusterProblems", key: "is not an exact release like", what: "an unpinned Talos version", base: "ms01", mutate: (e) => (talos(e).talosVersion = "v1.11"), path: "talos.clusters[0].talosVersion", refusal: /talosVersion: "v1\.11" is not an exact release/ },
  { site: "talos-cluster#talosClusterProblems", key: "`schematic: \"${args.schematic}\"", what: "a schematic that is not 64 hex", base: "ms01", mutate: (e) => (talos(e).schematic = "default"), path: "talos.clusters[0].schematic", refusal: /schematic: "default" is not an Image Factory schematic id/ },
  { site: "talos-cluster#talosClusterProblems", key: "`ciliumVersion: ${", what: "Cilium without a pinned version", base: "ms01", mutate: (e) => delete talos(e).ciliumVersion, path: "talos.clusters[0].ciliumVersion", refusal: /ciliumVersion: null is not a pinned chart version/ },
  { site: "talos-cluster#talosClusterProblems", key: "is the address of another node", what: "two nodes with one address", base: "ms01", mutate: (e) => (talos(e).workers[1].address = talos(e).workers[0].address), path: "talos.clusters[0].workers[1].address", refusal: /talos-w-2\.address: "10\.203\.3\.61" is the address of another node/ },
  { site: "talos-cluster#talosClusterProblems", key: "`vip: \"${args.vip}\" is a node's address", what: "the VIP on a node's address", base: "ms01", mutate: (e) => (talos(e).vip = "10.203.3.51"), path: "talos.clusters[0].vip", refusal: /vip: "10\.203\.3\.51" is a node's address/ },
  // The QDevice provider's check (inputProblems), on nexus (2 nodes and a QDevice).
  {
    site: "qdevice#inputProblems",
    key: "a QDevice needs an even number",
    what: "a QDevice on an odd node count",
    base: "nexus",
    mutate: (e) => e.nodes.splice(1, 1),
    path: "cluster.qdevice",
    refusal: /cluster nexus has 1 nodes; a QDevice needs an even number/,
  },
  {
    site: "qdevice#inputProblems",
    key: "is a cluster member; it must be a host outside",
    what: "the QDevice is a cluster member",
    base: "nexus",
    mutate: (e) => (e.cluster.qdevice.address = "192.168.30.12"),
    path: "cluster.qdevice.address",
    refusal: /the QDevice host quorum-pi \(192\.168\.30\.12\) is a cluster member/,
  },

  // The Ceph provider's check (inputProblems).
  { site: "ceph-cluster#inputProblems", key: "publicNetwork \"${net}\" is not a network", what: "publicNetwork is not a CIDR", mutate: (e) => (e.networks[2].cidr = "192.168.5.0/33"), path: "networks[2].cidr", refusal: /publicNetwork "192\.168\.5\.0\/33" is not a network in CIDR notation/ },
  { site: "ceph-cluster#inputProblems", key: "clusterNetwork \"${net}\" is not a network", what: "clusterNetwork is not a CIDR", mutate: (e) => (e.networks[3].cidr = "192.168.7.0/33"), path: "networks[3].cidr", refusal: /clusterNetwork "192\.168\.7\.0\/33" is not a network in CIDR notation/ },
  { site: "ceph-cluster#inputProblems", key: "cephVersion \"${inputs.cephVersion}\" is not one of", what: "cephVersion is not a release", mutate: (e) => (e.baseline.cephRelease = "pacific"), path: "baseline.cephRelease", refusal: /cephVersion "pacific" is not one of/ },
  { site: "ceph-cluster#inputProblems", key: "${key} names ${v}, which is not in nodes", what: "monNodes names an unknown node", mutate: (e) => (e.ceph.monNodes = ["foxtrot", "golf", "india"]), path: "ceph.monNodes[2]", refusal: /monNodes names india, which is not in nodes/ },
  { site: "ceph-cluster#inputProblems", key: "${key} lists ${v} twice", what: "monNodes lists a node twice", mutate: (e) => (e.ceph.monNodes = ["foxtrot", "golf", "golf"]), path: "ceph.monNodes[2]", refusal: /monNodes lists golf twice/ },
  { site: "ceph-cluster#inputProblems", key: "${key} lists ${v} twice", what: "mgrNodes lists a node twice", mutate: (e) => (e.ceph.mgrNodes = ["golf", "golf"]), path: "ceph.mgrNodes[1]", refusal: /mgrNodes lists golf twice/ },
  {
    site: "ceph-cluster#inputProblems",
    key: "is not in publicNetwork ${inputs.publicNetwork}",
    what: "a monitor's address is outside the public network",
    mutate: (e) => (iface(e, 0, "vmbr1").address = "192.168.6.5"),
    path: "nodes[0].interfaces[5].address",
    refusal: /foxtrot: monAddress 192\.168\.6\.5 is not in publicNetwork/,
  },
  {
    site: "ceph-cluster#inputProblems",
    key: "every monitor needs its own address",
    what: "two monitors share an address",
    mutate: (e) => (iface(e, 1, "vmbr1").address = "192.168.5.5"),
    path: "nodes[1].interfaces[5].address",
    refusal: /monAddress 192\.168\.5\.5 is used by foxtrot and by golf/,
  },
  // The Ceph component (before the provider).
  { site: "ceph-cluster#constructor", key: "which ${unknown.length === 1", what: "mgrNodes names an unknown node", mutate: (e) => (e.ceph.mgrNodes = ["india"]), path: "ceph.mgrNodes[0]", refusal: /mgrNodes names india, which is not in nodes/ },

  // The OSD provider's check (osdInputProblems).
  { site: "ceph-osd#osdInputProblems", key: "device \"${d.device}\" is not a /dev/ path", what: "device is not a /dev/ path", mutate: (e) => (node(e, 0).osds[0].device = "sdb"), path: "nodes[0].osds[0].device", refusal: /foxtrot: device "sdb" is not a \/dev\/ path/ },
  { site: "ceph-osd#osdInputProblems", key: "${where} is listed twice", what: "device listed twice", mutate: (e) => (node(e, 0).osds[1].device = "/dev/nvme0n1"), path: "nodes[0].osds[1].device", refusal: /foxtrot: device \/dev\/nvme0n1 is listed twice/ },
  { site: "ceph-osd#osdInputProblems", key: "must be a whole number from 1 to 16", what: "osdsPerDevice out of range", mutate: (e) => (node(e, 0).osds[0].osdsPerDevice = 17), path: "nodes[0].osds[0].osdsPerDevice", refusal: /osdsPerDevice 17 must be a whole number from 1 to 16/ },
  {
    site: "ceph-osd#osdInputProblems",
    key: "cannot be combined with",
    what: "osdsPerDevice with a DB device",
    mutate: (e) => (node(e, 0).osds[0].dbDevice = "/dev/sda"),
    path: "nodes[0].osds[0].osdsPerDevice",
    refusal: /osdsPerDevice 2 cannot be combined with dbDevice/,
  },
  {
    site: "ceph-osd#osdInputProblems",
    key: "${where}: ${key} \"${v}\" is not a /dev/ path",
    what: "DB device is not a /dev/ path",
    mutate: (e) => Object.assign(node(e, 0).osds[0], { osdsPerDevice: 1, dbDevice: "sda" }),
    path: "nodes[0].osds[0].dbDevice",
    refusal: /dbDevice "sda" is not a \/dev\/ path/,
  },
  {
    site: "ceph-osd#osdInputProblems",
    key: "is the device itself",
    what: "WAL device is the device itself",
    mutate: (e) => Object.assign(node(e, 0).osds[0], { osdsPerDevice: 1, walDevice: "/dev/nvme0n1" }),
    path: "nodes[0].osds[0].walDevice",
    refusal: /walDevice is the device itself/,
  },
  { site: "ceph-osd#osdInputProblems", key: "(e.g. nvme, ssd, hdd)", what: "deviceClass malformed", mutate: (e) => (node(e, 0).osds[0].deviceClass = "NVMe"), path: "nodes[0].osds[0].deviceClass", refusal: /deviceClass "NVMe" must be lower-case/ },

  // The pool provider's check (poolInputProblems) and the pools component.
  { site: "ceph-pool#poolInputProblems", key: "the name must be letters", what: "pool name malformed", mutate: (e) => (e.ceph.pools[0].name = "vm ssd"), path: "ceph.pools[0].name", refusal: /the name must be letters, digits/ },
  { site: "ceph-pool#poolInputProblems", key: "is not a valid storage ID", what: "pool name not a storage ID", mutate: (e) => (e.ceph.pools[0].name = "1ssd"), path: "ceph.pools[0].name", refusal: /the name is not a valid storage ID/ },
  { site: "ceph-pool#poolInputProblems", key: "must be a whole number from 1 to ${MAX_SIZE}", what: "size above the maximum", mutate: (e) => (e.ceph.pools[0].size = 8), path: "ceph.pools[0].size", refusal: /size 8 must be a whole number from 1 to 7/ },
  { site: "ceph-pool#poolInputProblems", key: "must be a whole number of at least 1", what: "minSize below 1", mutate: (e) => (e.ceph.pools[0].minSize = 0), path: "ceph.pools[0].minSize", refusal: /minSize 0 must be a whole number of at least 1/ },
  { site: "ceph-pool#poolInputProblems", key: "min_size must be ≤ size", what: "minSize above size", mutate: (e) => Object.assign(e.ceph.pools[0], { size: 2, minSize: 3 }), path: "ceph.pools[0].minSize", refusal: /minSize 3 is larger than size 2/ },
  { site: "ceph-pool#poolInputProblems", key: "keeps a single copy of the data", what: "size 1 without allowSingleReplica", mutate: (e) => Object.assign(e.ceph.pools[0], { size: 1, minSize: 1 }), path: "ceph.pools[0].size", refusal: /size 1 keeps a single copy of the data/ },
  { site: "ceph-pool#poolInputProblems", key: "hosts with OSDs${w.deviceClass", what: "size above the OSD hosts", mutate: (e) => (e.ceph.pools[0].size = 4), path: "ceph.pools[0].size", refusal: /size 4 needs 4 hosts with OSDs of class nvme, but only 3 have them/ },
  {
    site: "ceph-pool#poolInputProblems",
    key: "pgNum is required when autoscale is off",
    what: "autoscale off without pgNum",
    mutate: (e) => {
      delete e.ceph.pools[0].pgNum;
      e.ceph.pools[0].autoscale = false;
    },
    path: "ceph.pools[0].pgNum",
    refusal: /pgNum is required when autoscale is off/,
  },
  { site: "ceph-pool#poolInputProblems", key: "must be a whole number from 1 to 32768", what: "pgNum out of range", mutate: (e) => (e.ceph.pools[0].pgNum = 65536), path: "ceph.pools[0].pgNum", refusal: /pgNum 65536 must be a whole number from 1 to 32768/ },
  { site: "ceph-pool#poolInputProblems", key: "application \"${w.application}\"", what: "unknown application", mutate: (e) => (e.ceph.pools[0].application = "nfs"), path: "ceph.pools[0].application", refusal: /application "nfs" is not one of/ },
  { site: "ceph-pool#poolInputProblems", key: "deviceClass \"${w.deviceClass}\"", what: "deviceClass malformed", mutate: (e) => (e.ceph.pools[0].deviceClass = "NVMe"), path: "ceph.pools[0].deviceClass", refusal: /deviceClass "NVMe" must be lower-case/ },
  { site: "ceph-pools#cephPoolsProblems", key: "is listed twice", what: "pool listed twice", mutate: (e) => (e.ceph.pools[1].name = "vm_ssd"), path: "ceph.pools[1].name", refusal: /pools\["vm_ssd"\] is listed twice/ },

  // The cluster provider's check (inputProblems) and the cluster component.
  { site: "cluster#inputProblems", key: "clusterName is empty", what: "cluster name empty", mutate: (e) => (e.cluster.name = ""), path: "cluster.name", refusal: /clusterName is empty/ },
  {
    site: "cluster#inputProblems",
    key: "corosync addresses must be unique",
    what: "two nodes share a corosync address",
    mutate: (e) => (iface(e, 1, "vlan9").address = "192.168.8.5"),
    path: "nodes[1].interfaces[4].address",
    refusal: /address 192\.168\.8\.5 is used by foxtrot\.link0 and by golf\.link0/,
  },
  {
    site: "cluster#inputProblems",
    key: "loses quorum when one node fails. Add nodes",
    what: "fewer than 3 nodes",
    mutate: (e) => e.nodes.pop(),
    path: "cluster",
    refusal: /a cluster of fewer than 3 nodes loses quorum/,
  },
  { site: "proxmox-cluster#constructor", key: "(add a QDevice, or set allowSmallCluster: true to allow this)", what: "fewer than 3 nodes", mutate: (e) => e.nodes.splice(1, 2), path: "cluster", refusal: /nodes has 1 node\(s\); a cluster of fewer than 3 nodes/ },

  // The Thunderbolt ring component (ringProblem).
  {
    site: "thunderbolt-ring#ringProblem",
    key: "ends in .${last} like",
    base: "ms01",
    what: "two loopbacks end in the same octet",
    mutate: (e) => (node(e, 1).thunderbolt.loopback = "10.100.1.11"),
    path: "nodes[1].thunderbolt.loopback",
    refusal: /loopback 10\.100\.1\.11 ends in \.11 like frege's/,
  },
  {
    site: "thunderbolt-ring#ringProblem",
    key: "thunderbolt port ${p.name} is listed twice",
    base: "ms01",
    what: "a port listed twice",
    mutate: (e) => (port(e, 0, "en06").name = "en05"),
    path: "nodes[0].thunderbolt.ports[1].name",
    refusal: /frege: thunderbolt port en05 is listed twice/,
  },
  {
    site: "thunderbolt-ring#ringProblem",
    key: "has itself as peer",
    base: "ms01",
    what: "a port cabled to its own node",
    mutate: (e) => (port(e, 0, "en06").peer = "frege"),
    path: "nodes[0].thunderbolt.ports[1].peer",
    refusal: /frege: thunderbolt port en06 has itself as peer/,
  },
  {
    site: "thunderbolt-ring#ringProblem",
    key: "which is not a ring node",
    base: "ms01",
    what: "a peer that is not a ring node",
    mutate: (e) => (port(e, 0, "en06").peer = "gauss"),
    path: "nodes[0].thunderbolt.ports[1].peer",
    refusal: /frege: thunderbolt port en06 names peer gauss, which is not a ring node/,
  },
  {
    site: "thunderbolt-ring#ringProblem",
    key: "list the cable on both ends",
    base: "ms01",
    what: "a cable listed on one end only",
    mutate: (e) => (port(e, 0, "en06").peer = "russell"),
    path: "nodes[0].thunderbolt.ports[1].peer",
    refusal: /is cabled to .*, but .* has no port whose peer is .*; list the cable on both ends/,
  },

  // The cloud template provider's check.
  { site: "cloud-template#check", key: "must be an integer in 100..999999999", what: "template VMID below 100", mutate: (e) => (e.templates[0].vmid = 99), path: "templates[0].vmid", refusal: /vmid 99 must be an integer in 100\.\.999999999/ },
  { site: "cloud-template#check", key: "must look like 32G", what: "disk size not like 32G", mutate: (e) => (e.templates[0].diskSize = "32GB"), path: "templates[0].diskSize", refusal: /diskSize "32GB" must look like 32G/ },
  {
    site: "thunderbolt-ring#ringProblem",
    key: "needs at least 2 nodes",
    base: "ms01",
    what: "a ring of one node",
    mutate: (e) => {
      delete node(e, 1).thunderbolt;
      delete node(e, 2).thunderbolt;
      node(e, 0).thunderbolt.ports = [];
    },
    path: "nodes[0].thunderbolt.ports",
    refusal: /a Thunderbolt ring needs at least 2 nodes, got 1/,
  },

  // The API access component (apiAccessProblems).
  { site: "api-access#apiAccessProblems", key: "validateUserid(", what: "root@pam as the automation user", mutate: (e) => (e.apiAccess.userid = "root@pam"), path: "apiAccess.userid", refusal: /user root@pam cannot be managed here/ },
  { site: "api-access#apiAccessProblems", key: "validateTokenName(", what: "token name not starting with a letter", mutate: (e) => (e.apiAccess.tokenName = "1x"), path: "apiAccess.tokenName", refusal: /token name "1x"/ },
  { site: "api-access#apiAccessProblems", key: "validateRoleName(", what: "a built-in role", mutate: (e) => (e.apiAccess.roleName = "Administrator"), path: "apiAccess.roleName", refusal: /role Administrator is a built-in Proxmox role/ },
  { site: "api-access#apiAccessProblems", key: "validateRoleName(", what: "a role named PVE…", mutate: (e) => (e.apiAccess.roleName = "PVEAutomation"), path: "apiAccess.roleName", refusal: /names starting with "PVE" \(any case\) are reserved/ },
  { site: "api-access#apiAccessProblems", key: "[`rotation ${", what: "rotation with a space", mutate: (e) => (e.apiAccess.rotation = "a b"), path: "apiAccess.rotation", refusal: /rotation "a b" may only hold letters/ },

  // The Proxmox VE install from Debian (nodes[].install): the stated Debian release carries the major.
  {
    site: "pve-install#check",
    key: "does not carry Proxmox VE",
    what: "a Debian release that does not carry the requested major",
    mutate: (e) => {
      e.proxmox = { major: 9 };
      node(e, 0).install = { from: "debian", debianRelease: 12, rebootTimeoutSeconds: 900 };
    },
    path: "nodes[0].install.debianRelease",
    refusal: /foxtrot: Debian 12 does not carry Proxmox VE 9; it installs on Debian 13 \(trixie\)/,
  },

  // The baseline's sysctls and kernel parameters (kernelSettingsProblems, run by the provider's check).
  { site: "kernel-settings#kernelSettingsProblems", key: "is not a sysctl name", what: "a sysctl name with a space", mutate: (e) => (e.baseline.sysctls = { "net ipv4": "1" }), path: 'baseline.sysctls["net ipv4"]', refusal: /foxtrot: sysctl "net ipv4" is not a sysctl name/ },
  { site: "kernel-settings#kernelSettingsProblems", key: "is not a value on one line", what: "a sysctl value with a newline", mutate: (e) => (e.baseline.sysctls = { "vm.swappiness": "1\n2" }), path: 'baseline.sysctls["vm.swappiness"]', refusal: /foxtrot: sysctl vm\.swappiness = "1\\n2" is not a value on one line/ },
  { site: "kernel-settings#kernelSettingsProblems", key: "is not name or name=value", what: "a kernel parameter with a space", mutate: (e) => (e.baseline.kernelParameters = ["a b"]), path: "baseline.kernelParameters[0]", refusal: /foxtrot: kernel parameter "a b" is not name or name=value/ },

  // The node and host baselines.
  { site: "node-baseline#constructor", key: "is not a Ceph release Proxmox ships", what: "an unknown Ceph release", mutate: (e) => (e.baseline.cephRelease = "pacific"), path: "baseline.cephRelease", refusal: /cephRelease "pacific" is not a Ceph release Proxmox ships/ },
  {
    site: "host-baseline#constructor",
    key: "is listed twice",
    base: "ms01",
    what: "a user listed twice",
    mutate: (e) => (e.baseline.users[1].name = e.baseline.users[0].name),
    path: "baseline.users[1].name",
    refusal: /users: "\w+" is listed twice/,
  },
  { site: "host-baseline#constructor", key: "normalizePackages(", what: "a package name with a capital", mutate: (e) => e.baseline.packages.push("Htop"), path: "baseline.packages[3]", refusal: /packages: "Htop" is not a Debian package name/ },

  // The node network component: what rendering /etc/network/interfaces refuses.
  { site: "interfaces#render", key: "no network named", what: "an interface on an unknown network", mutate: (e) => (iface(e, 0, "vmbr2").network = "storage"), path: "nodes[0].interfaces[6].network", refusal: /interface vmbr2: no network named "storage"/ },
  { site: "interfaces#render", key: "needs a network (for its prefix)", what: "an address without a network", mutate: (e) => delete iface(e, 0, "vmbr2").network, path: "nodes[0].interfaces[6].address", refusal: /interface vmbr2: address 192\.168\.7\.5 needs a network/ },
  { site: "interfaces#render", key: "is not an IPv4 CIDR", what: "a network whose CIDR has no valid prefix", mutate: (e) => (e.networks[3].cidr = "192.168.7.0/33"), path: "networks[3].cidr", refusal: /"192\.168\.7\.0\/33" is not an IPv4 CIDR/ },
  { site: "interfaces#render", key: "vlanIds set on a bridge that is not VLAN-aware", what: "vlanIds on a bridge that is not VLAN-aware", mutate: (e) => (iface(e, 0, "vmbr0").vlanAware = false), path: "nodes[0].interfaces[3].vlanIds", refusal: /interface vmbr0: vlanIds set on a bridge that is not VLAN-aware/ },
  { site: "interfaces#render", key: "a bond needs at least one slave", base: "ms01", what: "a bond without slaves", mutate: (e) => (iface(e, 0, "bond0").slaves = []), path: "nodes[0].interfaces[2].slaves", refusal: /interface bond0: a bond needs at least one slave/ },
  { site: "interfaces#render", key: "is not one of its slaves", base: "ms01", what: "a bond primary that is not a slave", mutate: (e) => (iface(e, 0, "bond0").primary = "enp9s0"), path: "nodes[0].interfaces[2].primary", refusal: /interface bond0: bond primary enp9s0 is not one of its slaves/ },
  { site: "interfaces#vlanNameProblem", key: "the name means VLAN ${Number(dotted[2])} on", what: "a dotted VLAN name that says another VLAN", mutate: (e) => (iface(e, 0, "vlan9").name = "vmbr0.10"), path: "nodes[0].interfaces[4].name", refusal: /the name means VLAN 10 on vmbr0, but device is vmbr0 and vlanId is 9/ },
  {
    site: "interfaces#vlanNameProblem",
    key: "rename it to vlan${v.vlanId}",
    what: "a vlanN name that says another VLAN",
    mutate: (e) => {
      iface(e, 0, "vmbr0").vlanIds = [9, 10];
      iface(e, 0, "vlan9").vlanId = 10;
    },
    path: "nodes[0].interfaces[4].name", refusal: /interface vlan9: the name means VLAN 9, but vlanId is 10/ },

  // The HA placement component (haPlacementArgsProblems) and the HA provider's input checks it runs.
  {
    site: "ha#haPlacementProblems",
    key: "must start with a letter and contain only",
    what: "a placement name starting with a digit",
    mutate: (e) => {
      e.ha.placements[0].name = "1spread";
      for (const v of e.vms) if (v.ha) v.ha.placement = "1spread";
    },
    path: "ha.placements[0]",
    refusal: /name "1spread" must start with a letter/,
  },
  { site: "ha#haPlacementProblems", key: "nodes must list at least one node", what: "a placement without nodes", mutate: (e) => (e.ha.placements[0].nodes = []), path: "ha.placements[0].nodes", refusal: /nodes must list at least one node/ },
  { site: "ha#haPlacementProblems", key: "node ${n.node} is listed twice", what: "a node listed twice", mutate: (e) => e.ha.placements[0].nodes.push({ node: "golf" }), path: "ha.placements[0]", refusal: /node golf is listed twice/ },
  { site: "ha#haPlacementProblems", key: "must be an integer 0-1000", what: "a priority above 1000", mutate: (e) => (e.ha.placements[0].nodes[0].priority = 1001), path: "ha.placements[0].nodes[0].priority", refusal: /priority 1001 of node foxtrot must be an integer 0-1000/ },
  { site: "ha#haResourceProblems", key: "is not a VMID (100-999999999)", what: "an HA VM's VMID below 100", mutate: (e) => (e.vms[0].vmid = 99), path: "vms[0].vmid", refusal: /vmid 99 is not a VMID/ },
  { site: "ha#haResourceProblems", key: "state \"${i.state}\" is not one of", what: "an unknown HA state", mutate: (e) => (e.vms[0].ha.state = "paused"), path: "vms[0].ha.state", refusal: /state "paused" is not one of/ },
  { site: "ha#haResourceProblems", key: "must be an integer 0-10", what: "maxRestart above 10", mutate: (e) => (e.vms[0].ha.maxRestart = 11), path: "vms[0].ha.maxRestart", refusal: /maxRestart 11 must be an integer 0-10/ },
  {
    site: "ha-component#haPlacementArgsProblems",
    key: "VM ${vm.vmid} is listed twice",
    what: "two VMs of a placement with one VMID",
    mutate: (e) => {
      e.vms[0].vmid = 300;
      e.vms[1].vmid = 300;
    },
    path: "vms[1].vmid",
    refusal: /HA placement spread: VM 300 is listed twice/,
  },
  // K3s (matrix runs a cluster "lab" on kube-1..3): the component's rule, and the provider's check.
  { site: "k3s-cluster#k3sClusterProblems", key: "is not a K3s release name", what: "version is no release name", mutate: (e) => (e.k3s.clusters[0].version = "1.31.5"), path: "k3s.clusters[0].version", refusal: /version: "1\.31\.5" is not a K3s release name/ },
  { site: "k3s-cluster#k3sClusterProblems", key: "give 1 server, or an odd number", what: "an even number of servers", mutate: (e) => Object.assign(e.k3s.clusters[0], { servers: ["kube-1", "kube-2"], agents: ["kube-3"] }), path: "k3s.clusters[0].servers", refusal: /servers: 2 given/ },
  { site: "k3s-cluster-provider#check", key: "K3s needs 1 server, or an odd number", what: "an even number of servers", mutate: (e) => Object.assign(e.k3s.clusters[0], { servers: ["kube-1", "kube-2"], agents: ["kube-3"] }), path: "k3s.clusters[0].servers", refusal: /servers: 2 given; K3s needs 1 server/ },
  { site: "k3s-cluster#k3sClusterProblems", key: "is listed twice", what: "a member listed twice", mutate: (e) => (e.k3s.clusters[0].agents = ["kube-2", "kube-2", "kube-3"]), path: "k3s.clusters[0].agents[1]", refusal: /nodes: "kube-2" is listed twice/ },
  {
    site: "k3s-cluster#k3sClusterProblems",
    key: "is not key[=value]:NoSchedule",
    what: "a taint with an unknown effect",
    mutate: (e) => (e.k3s.clusters[0].nodes = { "kube-2": { labels: {}, taints: ["dedicated=gpu:Never"] } }),
    path: "k3s.clusters[0].nodes[\"kube-2\"].taints[0]",
    refusal: /kube-2\.taints: "dedicated=gpu:Never"/,
  },
  {
    site: "k3s-cluster#k3sClusterProblems",
    key: "is not a Kubernetes label key",
    what: "a label key Kubernetes refuses",
    mutate: (e) => (e.k3s.clusters[0].nodes = { "kube-2": { labels: { "-zone": "a" }, taints: [] } }),
    path: 'k3s.clusters[0].nodes["kube-2"].labels["-zone"]',
    refusal: /kube-2\.labels: "-zone" is not a Kubernetes label key/,
  },
  {
    site: "k3s-cluster#k3sClusterProblems",
    key: "is not a Kubernetes label value",
    what: "a label value Kubernetes refuses",
    mutate: (e) => (e.k3s.clusters[0].nodes = { "kube-2": { labels: { zone: "rack a" }, taints: [] } }),
    path: "k3s.clusters[0].nodes[\"kube-2\"].labels.zone",
    refusal: /kube-2\.labels\.zone: "rack a" is not a Kubernetes label value/,
  },
  { site: "k3s-cluster#k3sClusterProblems", key: "apiAddress: \"${args.apiAddress}\"", what: "an API address that is none", mutate: (e) => (e.k3s.clusters[0].apiAddress = "k3s_api!"), path: "k3s.clusters[0].apiAddress", refusal: /apiAddress: "k3s_api!" is not an IP address or DNS name/ },
  {
    site: "k3s-cluster#k3sClusterProblems",
    key: "binarySha256: \"${sum}\" is not a sha256",
    what: "a binary checksum that is no sha256",
    mutate: (e) => (e.k3s.clusters[0].artifacts.amd64 = { binarySha256: "abc" }),
    path: "k3s.clusters[0].artifacts.amd64.binarySha256",
    refusal: /artifacts\.amd64\.binarySha256: "abc" is not a sha256/,
  },
  {
    site: "k3s-cluster#k3sClusterProblems",
    key: "installScriptSha256: \"${pins.installScriptSha256}\" is not a sha256",
    what: "an install.sh checksum that is no sha256",
    mutate: (e) => (e.k3s.clusters[0].artifacts.installScriptSha256 = "ABC"),
    path: "k3s.clusters[0].artifacts.installScriptSha256",
    refusal: /artifacts\.installScriptSha256: "ABC" is not a sha256/,
  },
  // The cluster firewall and the guest networks (components/cluster-firewall.ts, components/guest-networks.ts).
  {
    site: "cluster-firewall#constructor",
    key: "adminNetworks is empty",
    what: "a firewall with no admin network",
    mutate: (e) => (e.firewall.adminNetworks = []),
    path: "firewall.adminNetworks",
    refusal: /adminNetworks is empty; SSH and the API would be closed to everyone/,
  },
  {
    site: "guest-networks#constructor",
    key: "DHCP is only served on simple zones",
    what: "DHCP on a vxlan guest network",
    mutate: (e) => {
      e.sdn.networks[0].type = "vxlan";
      e.sdn.networks[0].vxlanTag = 100;
    },
    path: "sdn.networks[0].dhcp",
    refusal: /dev: DHCP is only served on simple zones/,
  },
];

/** Refusal statements no stack file can reach (or only the node can decide), by site, with why. */
const LEFT_OUT: { site: string; key: string; why: string }[] = [
  { site: "host-baseline#constructor", key: "hostnameFile(args.hostname)", why: "the composition passes the host's name, a checked RFC 1123 label" },
  { site: "host-baseline#constructor", key: "fqdnHostsBlock(args.fqdn", why: "the FQDN is <name>.<baseline.domain>: a checked label and a domain the schema checks with the same isFqdn" },
  { site: "host-baseline#constructor", key: "checkTimezone(args.timezone)", why: "baseline.timezone is checked by the schema with the same isTimezoneName" },
  { site: "k3s-cluster#k3sClusterProblems", key: "not a Kubernetes node name", why: "members are hosts, instances or VMs, whose names the schema checks as RFC 1123 labels" },
  { site: "k3s-cluster#k3sClusterProblems", key: "address: \"${h.address}\" is not an IP", why: "a member's address is a host's checked IPv4 or another resource's output" },
  { site: "k3s-cluster#k3sClusterProblems", key: "readyTimeoutSeconds: ${args.readyTimeoutSeconds}", why: "the composition never sets it (the component's default)" },
  { site: "k3s-cluster#k3sClusterProblems", key: "no checksum is pinned for K3s ${args.version} on ${arch}", why: "the schema requires a pin for each member's architecture (checkK3s)" },
  { site: "k3s-cluster#k3sClusterProblems", key: "no checksum is pinned for install.sh", why: "artifacts.installScriptSha256 is required by the schema" },
  { site: "ceph-cluster#inputProblems", key: "nodes is empty; Ceph needs", why: "the schema requires at least one node and Ceph runs on all of them" },
  { site: "ceph-cluster#inputProblems", key: "is listed twice in nodes", why: "node names are unique (schema); Ceph gets each node once" },
  { site: "ceph-cluster#inputProblems", key: "publicNetwork is empty", why: "ceph.publicNetwork is required and names a network with a CIDR" },
  { site: "ceph-cluster#inputProblems", key: "repository \"${inputs.repository}\"", why: "the composition always asks for no-subscription" },
  { site: "ceph-cluster#inputProblems", key: "is not an IP address", why: "monAddress is a checked interface address or thunderbolt loopback" },
  { site: "ceph-cluster#inputProblems", key: "is not a monitor node", why: "the composition gives monitors only a monAddress (tests/stacks.test.ts, mon-subset)" },
  { site: "ceph-cluster#constructor", key: "nodes is empty; Ceph needs", why: "the schema requires at least one node" },
  { site: "ceph-osds#constructor", key: "is listed twice", why: "node names are unique (schema); each OSD node is given once" },
  { site: "ceph-osds#constructor", key: "refuse(this, name, problems)", why: "the refusals of ceph-osd#osdInputProblems, which have their rows" },
  { site: "ceph-pools#cephPoolsProblems", key: "...poolInputProblems(inputs)", why: "the refusals of ceph-pool#poolInputProblems, which have their rows" },
  { site: "ceph-pool#poolInputProblems", key: "osdHosts must be the number", why: "osdHosts is a count the composition makes" },
  { site: "ceph-pool#poolInputProblems", key: "crushRule \"${w.crushRule}\"", why: "crushRule is derived from a checked deviceClass; the schema has no crushRule" },
  { site: "api-access#apiAccessProblems", key: "`apiPort ${", why: "the composition does not set apiPort (the API listens on 8006)" },
  { site: "api-access#apiAccessProblems", key: "? validatePrivileges(", why: "live: the privileges of the Proxmox major the node runs; the schema refuses a privilege no supported major has" },
  { site: "node-baseline#constructor", key: "return refuse(this, name, (e as Error).message)", why: "live: the repository files for the Proxmox major detected on the node" },
  { site: "host-baseline#constructor", key: "const fail = ", why: "the helper the two refusals below and normalizePackages use" },
  { site: "host-baseline#constructor", key: "hostsBlockFile(", why: "the hosts block is built from checked node names and addresses" },
  { site: "host-baseline#constructor", key: "sshdUsersFile(", why: "built from checked Linux user names" },
  { site: "interfaces#render", key: "`interface ${v.name}: ${problem}`", why: "the refusals of interfaces#vlanNameProblem, which have their rows" },
  { site: "ha#haPlacementProblems", key: "is not an HA resource ID like vm:100", why: "the composition makes the resource IDs (vm:<vmid>)" },
  { site: "ha-component#haPlacementArgsProblems", key: "VM ${vm.vmid}: ${p}", why: "the refusals of ha#haResourceProblems, which have their rows" },
  { site: "node-network#constructor", key: "if (err instanceof InterfaceConfigError) refuse(this", why: "the refusals of interfaces#render, which have their rows" },
  { site: "cluster#inputProblems", key: "nodes is empty; a cluster needs", why: "the schema requires at least one node" },
  { site: "cluster#inputProblems", key: "is listed twice in nodes", why: "node names are unique (schema)" },
  { site: "cluster#inputProblems", key: "has no links.link0 address", why: "lookup.clusterLinkAddresses refuses a node without a link address first; the schema requires one on every link" },
  { site: "cluster#inputProblems", key: "every node needs the same links", why: "as link0: every node gets an address on every cluster link or composition stops" },
  { site: "proxmox-cluster#constructor", key: "nodes is empty; a Proxmox cluster", why: "the schema requires at least one node" },
  { site: "qdevice#inputProblems", key: "members is empty", why: "the schema requires at least one node" },
  { site: "thunderbolt-ring#ringProblem", key: "node ${node} is listed twice", why: "node names are unique (schema)" },
  { site: "pve-install#check", key: "the release key's digest must be", why: "the key and its pinned digest come from the catalogue (infra/pve-install.ts pveInstallSource), not the stack file" },
  { site: "cloud-template#check", key: "must be an absolute path on the node", why: "imagePath is built from the image catalogue's file name under the ISO directory" },
  { site: "cluster-firewall#constructor", key: "nodes is empty; the firewall needs", why: "the firewall needs cluster (schema), which needs nodes; the composition passes every node" },
  { site: "guest-networks#constructor", key: "networks is empty; nothing to create", why: "the composition builds guest networks only when sdn.networks has some" },
];

// ---------------------------------------------------------------------------------------------
// What the composition (stacks/layers) hands each provider and component, from a parsed environment.

const access = (name: string) => ({ connection: { node: name, host: "192.0.2.1", port: 22, user: "root" }, sshPrivateKey: "key" });

function cephClusterInputs(env: Environment): CephClusterInputs {
  const ceph = env.ceph!;
  const isMon = (name: string) => ceph.monNodes === undefined || ceph.monNodes.includes(name);
  return {
    nodes: env.nodes.map((n) => {
      const monAddress = isMon(n.name) ? nodeAddressOn(env, n, ceph.publicNetwork) : undefined;
      return monAddress ? { connection: access(n.name).connection, monAddress } : { connection: access(n.name).connection };
    }),
    publicNetwork: networkByName(env, ceph.publicNetwork)?.cidr ?? "",
    clusterNetwork: ceph.clusterNetwork ? networkByName(env, ceph.clusterNetwork)?.cidr : undefined,
    cephVersion: env.baseline.cephRelease,
    repository: "no-subscription",
    monNodes: ceph.monNodes,
    mgrNodes: ceph.mgrNodes,
  } as CephClusterInputs;
}

const osdHosts = (env: Environment) => env.nodes.filter((n) => n.osds.length > 0);

function clusterInputs(env: Environment): ClusterInputs {
  return {
    clusterName: env.cluster!.name,
    nodes: env.nodes.map((n) => {
      const [link0, link1] = clusterLinkAddresses(env, n);
      return { connection: access(n.name).connection, links: link1 === undefined ? { link0 } : { link0, link1 } };
    }),
    // As ProxmoxCluster passes it: the QDevice's vote comes once the membership exists.
    allowSmallCluster: env.cluster!.allowSmallCluster || env.cluster!.qdevice !== undefined,
  } as ClusterInputs;
}

/** The HA placements of the VMs that ask for one (stacks/layers/guests.ts). */
const haPlacements = (env: Environment) =>
  thrown(() => {
    for (const placement of env.ha.placements) {
      const vms = env.vms.flatMap((v, index) => (v.ha?.placement === placement.name ? [{ vmid: vmVmid(env, index), ...v.ha }] : []));
      if (vms.length === 0) continue;
      new HaPlacementComponent(`ha-${placement.name}`, {
        access: access(env.nodes[0].name),
        placementName: placement.name,
        nodes: placement.nodes,
        strict: placement.strict,
        nofailback: placement.nofailback,
        vms: vms.map((m) => ({ vmid: m.vmid, state: m.state, maxRestart: m.maxRestart, maxRelocate: m.maxRelocate })),
      });
    }
  });

/** A K3s cluster's arguments as stacks/layers/k3s.ts builds them (addresses come from the machines). */
function k3sArgs(c: Environment["k3s"]["clusters"][number]): Parameters<typeof k3sClusterProblems>[0] {
  const host = (name: string): K3sHost => ({ name, access: access(name), address: "10.0.0.1", arch: "amd64", labels: c.nodes[name]?.labels, taints: c.nodes[name]?.taints });
  return { clusterName: c.name, version: c.version, servers: c.servers.map(host), agents: c.agents.map(host), apiAddress: c.apiAddress, token: "token", artifacts: c.artifacts };
}

/** One node's baseline (the detected Proxmox major is live state: a supported one here). */
const baseline = (env: Environment) =>
  new NodeBaseline("baseline", {
    access: access(env.nodes[0].name),
    pveMajor: 8,
    cephRelease: env.baseline.cephRelease,
    packages: env.baseline.packages,
    hosts: hostEntries(env),
    users: env.baseline.users,
  });

/** The API provider the native resources take (registered under mocks, once). */
let provider: proxmoxve.Provider | undefined;
const apiProvider = () => (provider ??= new proxmoxve.Provider("api", { endpoint: "https://192.0.2.1:8006/" }));

async function checkFailures(provider: pulumi.dynamic.ResourceProvider, inputs: unknown): Promise<string[]> {
  const r = await provider.check!({}, inputs);
  return (r.failures ?? []).map((f) => f.reason);
}

function thrown(build: () => unknown): string[] {
  try {
    build();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/** The refusals of each site for an environment: the provider's check, or the component's constructor. */
const REFUSALS: Record<string, (env: Environment) => Promise<string[]> | string[]> = {
  // Ceph sites judge only environments with Ceph (nexus has none).
  "ceph-cluster#inputProblems": (env) => !env.ceph ? [] : checkFailures(cephClusterProvider, cephClusterInputs(env)),
  "ceph-cluster#constructor": (env) =>
    !env.ceph ? [] : thrown(
      () =>
        new CephCluster("ceph", {
          nodes: env.nodes.map((n) => ({ access: access(n.name) })),
          publicNetwork: "10.0.0.0/24",
          monNodes: env.ceph!.monNodes,
          mgrNodes: env.ceph!.mgrNodes,
        }),
    ),
  "ceph-osd#osdInputProblems": async (env) =>
    (await Promise.all(osdHosts(env).map((n) => checkFailures(cephOsdsProvider, { connection: access(n.name).connection, devices: n.osds })))).flat(),
  "ceph-pool#poolInputProblems": async (env) =>
    !env.ceph ? [] : (
      await Promise.all(
        env.ceph!.pools.map((p) => checkFailures(cephPoolProvider, { ...p, allowSingleReplica: env.ceph!.allowSingleReplica, osdHosts: osdHosts(env).length })),
      )
    ).flat(),
  "ceph-pools#cephPoolsProblems": (env) =>
    !env.ceph ? [] : thrown(
      () =>
        new CephPools("pools", {
          access: access(env.nodes[0].name),
          pools: env.ceph!.pools.map((p) => ({ ...p, allowSingleReplica: env.ceph!.allowSingleReplica })),
          osdHosts: osdHosts(env).length,
        }),
    ),
  "cluster#inputProblems": (env) => checkFailures(clusterProvider, clusterInputs(env)),
  "proxmox-cluster#constructor": (env) =>
    thrown(
      () =>
        new ProxmoxCluster("cluster", {
          clusterName: env.cluster!.name,
          nodes: clusterInputs(env).nodes.map((n) => ({ access: access(n.connection.node), links: n.links })),
          rootPassword: "secret",
          allowSmallCluster: env.cluster!.allowSmallCluster,
          qdevice: env.cluster!.qdevice && access(env.cluster!.qdevice.name),
          quorumTimeoutSeconds: env.cluster!.quorumTimeoutSeconds,
        }),
    ),
  "qdevice#inputProblems": (env) => {
    const q = env.cluster?.qdevice;
    if (!q) return [];
    return checkFailures(qdeviceProvider, {
      clusterName: env.cluster!.name,
      members: env.nodes.map((n) => ({ ...access(n.name).connection, host: n.address })),
      qnetd: { node: q.name, host: q.address, port: 22, user: "root", hostKey: q.hostKey },
    });
  },
  "api-access#apiAccessProblems": (env) =>
    thrown(
      () =>
        env.apiAccess &&
        new ApiAccess("api", {
          access: access(env.nodes[0].name),
          userid: env.apiAccess.userid,
          tokenName: env.apiAccess.tokenName,
          roleName: env.apiAccess.roleName,
          privileges: env.apiAccess.privileges,
          privsep: env.apiAccess.privsep,
          rotation: env.apiAccess.rotation,
          insecureTls: env.apiAccess.insecureTls,
          apiAddress: env.nodes[0].address,
        }),
    ),
  "talos-cluster#talosClusterProblems": (env) =>
    thrown(() =>
      env.talos.clusters.forEach(
        (c) =>
          new TalosCluster(c.name, {
            clusterName: c.name,
            talosVersion: c.talosVersion,
            kubernetesVersion: c.kubernetesVersion,
            talosctl: c.talosctl,
            schematic: c.schematic,
            controlPlanes: c.controlPlanes,
            workers: c.workers,
            vip: c.vip,
            patches: c.patches,
            cni: c.cni,
            ciliumVersion: c.ciliumVersion,
          }),
      ),
    ),
  "node-baseline#constructor": (env) => thrown(() => baseline(env)),
  "host-baseline#constructor": (env) => thrown(() => baseline(env)),
  "ha#haPlacementProblems": (env) => haPlacements(env),
  "ha#haResourceProblems": (env) => haPlacements(env),
  "ha-component#haPlacementArgsProblems": (env) => haPlacements(env),
  "interfaces#vlanNameProblem": (env) => REFUSALS["interfaces#render"](env),
  "interfaces#render": (env) =>
    thrown(() =>
      env.nodes.forEach(
        (n) =>
          new NodeNetwork(`network-${n.name}`, {
            access: access(n.name),
            networks: env.networks,
            interfaces: n.interfaces,
            managementAddress: n.address,
            allowManagementChange: n.allowManagementChange,
            thunderbolt: n.thunderbolt && env.thunderbolt ? { loopback: n.thunderbolt.loopback, ports: n.thunderbolt.ports, mtu: env.thunderbolt.mtu } : undefined,
          }),
      ),
    ),
  // As components/node-baseline.ts builds each node's settings.
  "kernel-settings#kernelSettingsProblems": async (env) =>
    (
      await Promise.all(
        env.nodes.map((n) =>
          checkFailures(kernelSettingsProvider, {
            connection: access(n.name).connection,
            sysctlFile: sysctlFilePath(),
            sysctls: env.baseline.sysctls,
            kernelParameters: env.baseline.kernelParameters,
          }),
        ),
      )
    ).flat(),
  "kernel-settings-provider#check": (env) => REFUSALS["kernel-settings#kernelSettingsProblems"](env),
  // As stacks/layers/nodes.ts builds each install.
  "pve-install#check": async (env) =>
    (
      await Promise.all(
        env.nodes
          .filter((n) => n.install && env.proxmox)
          .map((n) =>
            checkFailures(pveInstallProvider, {
              connection: access(n.name).connection,
              pveMajor: env.proxmox!.major,
              address: n.address,
              source: pveInstallSource(env.proxmox!.major),
              debianRelease: n.install!.debianRelease,
              rebootTimeoutSeconds: n.install!.rebootTimeoutSeconds,
            }),
          ),
      )
    ).flat(),
  "cloud-template#check": async (env) =>
    (await Promise.all(env.templates.map((t) => checkFailures(cloudTemplateProvider, { vmid: t.vmid, diskSize: t.diskSize, imagePath: "/var/lib/vz/template/iso/image.img" })))).flat(),
  "k3s-cluster#k3sClusterProblems": (env) => env.k3s.clusters.flatMap((c) => k3sClusterProblems(k3sArgs(c))),
  "k3s-cluster-provider#check": async (env) =>
    (
      await Promise.all(
        env.k3s.clusters.map((c) =>
          checkFailures(k3sClusterProvider, {
            nodes: [...c.servers.map((name) => ({ name, role: "server" })), ...c.agents.map((name) => ({ name, role: "agent" }))],
          }),
        ),
      )
    ).flat(),
  "cluster-firewall#constructor": (env) =>
    thrown(
      () =>
        env.firewall &&
        new ClusterFirewall("firewall", {
          provider: apiProvider(),
          nodes: env.nodes.map((n) => access(n.name)),
          plan: firewallPlan({ adminNetworks: env.firewall.adminNetworks, networks: env.networks, memberAddresses: [], linkNetworks: [], extraRules: env.firewall.rules }),
          adminNetworks: env.firewall.adminNetworks,
        }),
    ),
  "guest-networks#constructor": (env) =>
    thrown(
      () =>
        env.sdn.networks.length > 0 &&
        new GuestNetworks("sdn", {
          provider: apiProvider(),
          nodes: env.nodes.map((n) => access(n.name)),
          networks: env.sdn.networks.map((n) => ({ ...n, nodes: n.nodes ?? env.nodes.map((x) => x.name), peers: [] })),
        }),
    ),
  "thunderbolt-ring#ringProblem": (env) =>
    thrown(
      () =>
        // The composition builds a ring only where nodes have thunderbolt ports.
        env.thunderbolt &&
        env.nodes.some((n) => n.thunderbolt) &&
        new ThunderboltRing("ring", {
          nodes: env.nodes.filter((n) => n.thunderbolt).map((n) => ({ access: access(n.name), thunderbolt: n.thunderbolt! })),
          mtu: env.thunderbolt?.mtu,
          verify: false,
        }),
    ),
};

/**
 * Where refusals are made: a function (or a provider's `check`, or a component's constructor) in a
 * source file. Its refusal statements are found by scanning its text, so a new one fails the last test
 * until it has a row (or a reason in LEFT_OUT).
 */
const SITES: Record<string, { file: string; start?: string; statement?: RegExp; before?: number }> = {
  "api-access#apiAccessProblems": { file: "components/api-access.ts", start: "export function apiAccessProblems(", statement: /\bvalidate\w+\(|^\s*\? / },
  "interfaces#render": { file: "infra/network/interfaces.ts", statement: /\bthrow new InterfaceConfigError\(/ },
  "interfaces#vlanNameProblem": { file: "infra/network/interfaces.ts", start: "export function vlanNameProblem(" },
  "ha#haPlacementProblems": { file: "infra/providers/proxmox/ha.ts", start: "export function haPlacementProblems(" },
  "ha#haResourceProblems": { file: "infra/providers/proxmox/ha.ts", start: "export function haResourceProblems(" },
  "ha-component#haPlacementArgsProblems": { file: "components/ha.ts", start: "export function haPlacementArgsProblems(" },
  "node-network#constructor": { file: "components/node-network.ts", start: "  constructor(" },
  "node-baseline#constructor": { file: "components/node-baseline.ts", start: "  constructor(" },
  // fail(e) reports what a helper threw: the helper's name is on the lines before.
  "host-baseline#constructor": { file: "components/host-baseline.ts", start: "  constructor(", statement: /\brefuse\(this|\bfail\(e\)/, before: 3 },
  "ceph-cluster#inputProblems": { file: "infra/providers/ceph/ceph-cluster.ts", start: "export function inputProblems(" },
  "ceph-cluster#constructor": { file: "components/ceph-cluster.ts", start: "  constructor(" },
  "ceph-osd#osdInputProblems": { file: "infra/providers/ceph/ceph-osd.ts", start: "export function osdInputProblems(" },
  "ceph-osds#constructor": { file: "components/ceph-osds.ts", start: "  constructor(" },
  "ceph-pool#poolInputProblems": { file: "infra/providers/ceph/ceph-pool.ts", start: "export function poolInputProblems(" },
  "ceph-pools#cephPoolsProblems": { file: "components/ceph-pools.ts", start: "export function cephPoolsProblems(" },
  "cluster#inputProblems": { file: "infra/providers/proxmox/cluster.ts", start: "export function inputProblems(" },
  "proxmox-cluster#constructor": { file: "components/proxmox-cluster.ts", start: "  constructor(" },
  "qdevice#inputProblems": { file: "infra/providers/proxmox/qdevice.ts", start: "export function inputProblems(" },
  "thunderbolt-ring#ringProblem": { file: "components/thunderbolt-ring.ts", start: "export function ringProblem(" },
  "cloud-template#check": { file: "infra/providers/proxmox/cloud-template.ts", start: "  async check(" },
  "k3s-cluster#k3sClusterProblems": { file: "components/k3s-cluster.ts", start: "export function k3sClusterProblems(" },
  "k3s-cluster-provider#check": { file: "infra/providers/k3s/k3s-cluster.ts", start: "  async check(" },
  "pve-install#check": { file: "infra/providers/proxmox/pve-install.ts", start: "  async check(" },
  "kernel-settings#kernelSettingsProblems": { file: "infra/kernel-settings.ts", start: "export function kernelSettingsProblems(" },
  // Its check returns kernelSettingsProblems (above) as failures; no refusal of its own.
  "kernel-settings-provider#check": { file: "infra/providers/linux/kernel-settings.ts", start: "  async check(" },
  "talos-cluster#talosClusterProblems": { file: "components/talos-cluster.ts", start: "export function talosClusterProblems(" },
  "cluster-firewall#constructor": { file: "components/cluster-firewall.ts", start: "  constructor(" },
  "guest-networks#constructor": { file: "components/guest-networks.ts", start: "  constructor(" },
};

/**
 * Files that refuse arguments but have no site in the table yet, each with why. Shrink it:
 * a file listed here is a place where a stack file the schema accepts may still be refused at `up`.
 */
const UNLISTED = new Map<string, string>([
  ["components/child-options.ts", "refuse() itself; sharedSshKey's refusal needs nodes with different keys, and an environment derives one key"],
  ["components/ceph-health.ts", "refuses only an empty node list; the schema requires at least one node"],
  // Pending: stacks/schema/talos.ts refuses the same configs by path; rows for the provider's own check still to add.
  ["infra/providers/talos/talos-cluster.ts", "check() runs talosClusterProblems (even/no control planes, unpinned versions, installImage not the schematic form, duplicate names/addresses, VIP on a node); the schema refuses the same configs (tests/schema-talos.test.ts), rows here still to add"],
  ["components/vm.ts", "refuses a VM that is both a clone and an installer boot (or neither), or waitForAddress: false without a static address; the layers always give exactly one and a static address"],
]);

/** A refusal statement: a pushed problem or failure, a returned reason, a component's refuse(). */
const REFUSAL_STATEMENT = /(?:problems|failures|\bp)\.push\(|\brefuse\((?:this|\s*$)|\breturn `|\breturn \(\s*$/;

/** The refusal statements of a site, each with its whole text (a message often starts a line or two later). */
function refusalStatements(site: string): string[] {
  const { file, start, statement = REFUSAL_STATEMENT, before = 0 } = SITES[site];
  const lines = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n");
  let body = lines;
  if (start !== undefined) {
    const from = lines.findIndex((l) => l.startsWith(start));
    if (from < 0) throw new Error(`${file}: no line starting with ${JSON.stringify(start)}`);
    const indent = /^\s*/.exec(start)![0];
    const to = lines.findIndex((l, i) => i > from && (l === `${indent}}` || l === `${indent}},`));
    body = lines.slice(from + 1, to);
  }
  return body.flatMap((l, i) => {
    if (!statement.test(l)) return [];
    // The statement runs to its ";" (at most 6 lines), never into the next one: a neighbour's key must not cover it.
    let end = i;
    while (end < i + 5 && end + 1 < body.length && !/;\s*$/.test(body[end]) && !statement.test(body[end + 1])) end++;
    return [body.slice(Math.max(0, i - before), end + 1).join("\n")];
  });
}

function rawEnvironment(base: Base): Env {
  const { config } = stackConfig(STACK_FILES[base]);
  return JSON.parse(config["homelab:environment"]);
}

beforeAll(async () => {
  // Components register under mocks; a refusal throws before any child is registered.
  await prepareStack(STACK_FILES.matrix, []);
});

describe.each(Object.keys(STACK_FILES) as Base[])("stack %s as it is", (base) => {
  it("passes validation, and no check or component of the table refuses it", async () => {
    const raw = rawEnvironment(base);
    expect(environmentIssues(raw)).toEqual([]);
    const env = parseEnvironment(raw);
    for (const [site, refusals] of Object.entries(REFUSALS)) expect(await refusals(env), site).toEqual([]);
  });
});

describe.each(ROWS.map((r) => [`${r.site}: ${r.what}`, r] as const))("%s", (_title, row) => {
  const base = row.base ?? "matrix";
  it(`is refused by validation at ${row.path}, and by the check or component`, async () => {
    const raw = rawEnvironment(base);
    const parsed: Env = parseEnvironment(raw);
    row.mutate(raw);
    row.mutate(parsed);
    const issues = environmentIssues(raw);
    expect(issues.filter((l) => l.startsWith(`${row.path}: `)), issues.join("\n")).not.toEqual([]);
    const refusals = await REFUSALS[row.site](parsed);
    expect(refusals.some((m) => row.refusal.test(m)), refusals.join("\n")).toBe(true);
  });
});

describe("the table", () => {
  it.each(Object.keys(SITES))("has a row or a reason for every refusal statement of %s, and no stale one", (site) => {
    const statements = refusalStatements(site);
    const keys = [...ROWS.filter((r) => r.site === site).map((r) => r.key), ...LEFT_OUT.filter((l) => l.site === site).map((l) => l.key)];
    const uncovered = statements.filter((st) => !keys.some((k) => st.includes(k)));
    expect(uncovered, `refusals of ${site} with neither a row nor a reason left out`).toEqual([]);
    const stale = keys.filter((k) => !statements.some((st) => st.includes(k)));
    expect(stale, `keys of ${site} that match no refusal statement`).toEqual([]);
  });

  it("knows every component that refuses its arguments and every provider check that judges inputs", () => {
    const sources = (dir: string) => fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f));
    const files = new Set(Object.values(SITES).map((s) => s.file));
    const refusing = sources("components").filter((f) => /\brefuse\(this/.test(fs.readFileSync(path.join(ROOT, f), "utf8")));
    const judging = sources("infra/providers").filter((f) => /\basync check\(/.test(fs.readFileSync(path.join(ROOT, f), "utf8")));
    expect(judging.length, "provider files with a check method").toBeGreaterThanOrEqual(5);
    expect([...refusing, ...judging].filter((f) => !files.has(f) && !UNLISTED.has(f))).toEqual([]);
  });
});

describe("OSD device paths", () => {
  // Two patterns describe a device path (the schema's and the provider's); validation runs the provider's too.
  it.each(["/dev/sdb", "/dev/nvme0n1", "/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64ANS0T", "/dev/disk/by-id/usb-Disk+1", "/dev/disk/by-path/pci-0000:01:00.0-nvme-1", "/dev/../etc"])(
    "%s: validation refuses it exactly when the OSD provider's check does",
    async (device) => {
      const raw = rawEnvironment("matrix");
      const parsed: Env = parseEnvironment(rawEnvironment("matrix"));
      for (const env of [raw, parsed]) node(env, 0).osds = [{ ...node(parsed, 0).osds[0], osdsPerDevice: 1, device }];
      const refused = (await REFUSALS["ceph-osd#osdInputProblems"](parsed)).length > 0;
      const rejected = environmentIssues(raw).some((l) => l.startsWith("nodes[0].osds[0]"));
      expect(rejected).toBe(refused);
    },
  );
});

/** Values at the edge of what a field takes: whichever the schema accepts, the site must accept too. */
const EDGES: { site: string; field: string; base?: Base; set: (env: Env, v: unknown) => void; values: unknown[] }[] = [
  { site: "ceph-cluster#inputProblems", field: "baseline.cephRelease", set: (e, v) => (e.baseline.cephRelease = v), values: ["pacific", "quincy", "reef", "squid", "tentacle", "umbrella"] },
  { site: "node-baseline#constructor", field: "baseline.cephRelease", set: (e, v) => (e.baseline.cephRelease = v), values: ["quincy", "reef", "squid", "tentacle"] },
  { site: "ceph-pool#poolInputProblems", field: "ceph.pools[0].application", set: (e, v) => (e.ceph.pools[0].application = v), values: ["rbd", "cephfs", "rgw", "nfs"] },
  { site: "ceph-pool#poolInputProblems", field: "ceph.pools[0].size", set: (e, v) => (e.ceph.pools[0].size = v), values: [1, 2, 3, 4, 7] },
  { site: "ha#haResourceProblems", field: "vms[0].ha.state", set: (e, v) => (e.vms[0].ha.state = v), values: ["started", "stopped", "disabled", "ignored", "paused"] },
  { site: "ha#haResourceProblems", field: "vms[0].ha.maxRelocate", set: (e, v) => (e.vms[0].ha.maxRelocate = v), values: [0, 10, 11] },
  { site: "ceph-osd#osdInputProblems", field: "nodes[0].osds[0].osdsPerDevice", set: (e, v) => (e.nodes[0].osds[0].osdsPerDevice = v), values: [1, 8, 9, 16] },
  { site: "api-access#apiAccessProblems", field: "apiAccess.userid", set: (e, v) => (e.apiAccess.userid = v), values: ["automation@pve", "ops@pam", "root@pam", "a@ldap"] },
];

describe.each(EDGES.flatMap((e) => e.values.map((v) => [e.field, v, e] as const)))("%s: %j", (_field, value, edge) => {
  it(`is refused by ${edge.site} only if validation refuses it too`, async () => {
    const base = edge.base ?? "matrix";
    const raw = rawEnvironment(base);
    const parsed: Env = parseEnvironment(raw);
    edge.set(raw, value);
    edge.set(parsed, value);
    if (environmentIssues(raw).length > 0) return; // validation refuses it: nothing for `up` to refuse
    expect(await REFUSALS[edge.site](parsed)).toEqual([]);
  });
});
