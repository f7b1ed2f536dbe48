/**
 * Guests: the schemas of `images`, `templates`, `vms` and `ha`, and their
 * checks (references resolve, VMIDs never collide, the API exists).
 */
import { z } from "zod";
import { IMAGE_CATALOG, resolveImage, type ChecksumAlgorithm, type CloudImage } from "../../infra/images";
import { haPlacementProblems } from "../../infra/providers/proxmox/ha";
import { bool, hostName, ifName, integer, ipv4, list, mapping, oneOf, storageId, text } from "./fields";
import { isSdnId } from "./sdn";
import { notA, show } from "./messages";
import { MTU_MAX, isCidrSyntax, isInt, isLabel, isLinuxUser, isRecord, isSshPublicKey, isString } from "./predicates";
import { pathText, type PathIssue } from "./views";

const KNOWN_IMAGES = Object.keys(IMAGE_CATALOG);

const VM_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const vmid = () => integer("a VMID", 100, 999999999);
const CHECKSUM = /^(md5|sha1|sha224|sha256|sha384|sha512):[0-9a-f]{32,128}$/;

const IMAGE_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const imageName = () => text("an image name (lowercase letters, digits, hyphens, at most 32)", (v) => IMAGE_NAME.test(v));

/**
 * One entry of `images`: a new image, or an override of a built-in one (rocky9,
 * rocky10, debian12, debian13) — e.g. a newer dated build before homelab's
 * catalog has it. A new URL needs its checksum.
 */
export const ImageSchema = mapping(
  {
    /** Download URL of the qcow2 image (a dated build, not a "latest" alias). */
    url: text("an http(s) URL", (v) => /^https?:\/\/[A-Za-z0-9._~:/?#@%+=&-]+$/.test(v)).optional(),
    /** Pinned digest of the file at url, `<algorithm>:<hex>` (sha256, sha512, …): verified on download. */
    checksum: text("a checksum (<algorithm>:<hex>, e.g. sha256:…)", (v) => CHECKSUM.test(v)).optional(),
    /** File name on the node; must end in .img (Proxmox's iso content). Defaults to the URL's file name with .img. */
    fileName: text("a file name ending in .img", (v) => /^[A-Za-z0-9._-]{1,200}\.img$/.test(v)).optional(),
    /** The image's cloud-init user. Required for a new image. */
    defaultUser: text("a Linux user name", isLinuxUser).optional(),
    /** qm ostype. Defaults to l26. */
    ostype: oneOf(["l26", "l24", "other"] as const, "an ostype").optional(),
    /** Tags of templates built from it. */
    tags: list(text("a tag (lowercase letters, digits, - _)", (v) => /^[a-z0-9_][a-z0-9_-]{0,31}$/.test(v)), "a list of tags").optional(),
    /** Whether the image ships qemu-guest-agent. Defaults to false for a new image (homelab then installs it). */
    guestAgent: bool().optional(),
  },
  "an image (a mapping with url, checksum and defaultUser)",
);

export const TemplateSchema = mapping(
  {
    /** Template name (a DNS label). */
    name: text("a template name (lowercase letters, digits, hyphens)", (v) => VM_NAME.test(v)),
    /** Image: rocky9, rocky10, debian12, debian13, or a name from `images`. */
    image: imageName(),
    vmid: vmid(),
    /** Node that downloads the image and builds the template (on shared storage it serves the whole cluster). */
    node: hostName(),
    /** Storage of the template's disk and cloud-init drive. Defaults to local-lvm. */
    storage: storageId().default("local-lvm"),
    /** Bridge of net0. Defaults to vmbr0. */
    bridge: ifName().default("vmbr0"),
    /** Disk size, e.g. 32G. Defaults to 32G. */
    diskSize: text("a size like 32G", (v) => /^[1-9][0-9]{0,5}G$/.test(v)).default("32G"),
    /** Cores. Defaults to 4. */
    cores: integer("a core count", 1, 256).default(4),
    /** Memory in MiB. Defaults to 4096. */
    memoryMb: integer("a memory size in MiB", 256, 4194304).default(4096),
    /**
     * Install qemu-guest-agent through a cloud-init vendor snippet (see `snippets`).
     * Defaults to true for images without the agent (Debian), false for those with it (Rocky).
     */
    installGuestAgent: bool().optional(),
  },
  "a template (a mapping with name, image, vmid and node)",
);

export const VmSchema = mapping(
  {
    name: text("a VM name (lowercase letters, digits, hyphens)", (v) => VM_NAME.test(v)),
    /** Name of a template in `templates`. */
    template: text("a template name", (v) => VM_NAME.test(v)),
    /** Node the VM runs on. */
    node: hostName(),
    /** VMID. Defaults to vmidBase + the VM's index in `vms`. */
    vmid: vmid().optional(),
    /** Storage of the clone's disks. Defaults to the template's storage. */
    storage: storageId().optional(),
    cores: integer("a core count", 1, 256).default(2),
    memoryMb: integer("a memory size in MiB", 256, 4194304).default(2048),
    /** Boot disk size in GiB (grows the template's disk, virtio0). Shorthand for disks: [{ interface: virtio0, sizeGb }]. */
    diskGb: integer("a disk size in GiB", 1, 65536).optional(),
    /** Disks: virtio0 resizes the template's boot disk, others are added. Defaults to the template's. */
    disks: list(
      mapping(
        {
          interface: text("a disk slot (virtio0–15, scsi0–30, sata0–5)", (v) => /^(virtio([0-9]|1[0-5])|scsi([0-9]|[12][0-9]|30)|sata[0-5])$/.test(v)),
          sizeGb: integer("a disk size in GiB", 1, 65536),
          /** Defaults to the VM's storage. */
          storage: storageId().optional(),
        },
        "a disk (a mapping with interface and sizeGb)",
      ),
      "a list of disks",
    ).optional(),
    networks: list(
      mapping(
        {
          /** A Linux bridge on the node. Defaults to vmbr0 (when no vnet is given). */
          bridge: ifName().optional(),
          /** A guest network of sdn.networks, by name (instead of bridge). */
          vnet: text("an SDN name (a lowercase letter, then lowercase letters and digits, at most 8)", isSdnId).optional(),
          vlanId: integer("a VLAN id", 1, 4094).optional(),
          mtu: integer("an MTU (1 = the bridge's)", 1, MTU_MAX).optional(),
        },
        "a network (a mapping with bridge)",
      ),
      "a list of networks",
    ).default([{ bridge: "vmbr0" }]),
    /**
     * Give the VM the host baseline (packages, users, time zone, FQDN, /etc/hosts) over
     * SSH as its cloud-init user (through sudo unless root), with its host key read
     * through the guest agent. Defaults to true.
     */
    baseline: bool().default(true),
    cloudInit: mapping(
      {
        user: text("a Linux user name", isLinuxUser).optional(),
        sshKeys: list(text("an SSH public key", isSshPublicKey), "a list of SSH public keys").min(1, { error: "empty; a VM needs at least one SSH key" }),
        /** "dhcp" or a static address with prefix (192.168.3.50/24). Defaults to dhcp. */
        ipv4: text('"dhcp" or an IPv4 address with prefix', (v) => v === "dhcp" || isCidrSyntax(v)).default("dhcp"),
        gateway: ipv4().optional(),
        dnsServers: list(ipv4(), "a list of IPv4 addresses").optional(),
        /** DNS search domain. */
        dnsDomain: text("a DNS domain", (v) => v.length <= 253 && v.split(".").every(isLabel)).optional(),
      },
      "a mapping with sshKeys",
    ),
    /** Make the VM highly available. */
    ha: mapping(
      {
        /** Name of a placement in ha.placements (which nodes may run it). */
        placement: text("a placement name", (v) => VM_NAME.test(v)),
        state: oneOf(["started", "stopped", "disabled", "ignored"] as const, "an HA state").default("started"),
        maxRestart: integer("a restart count", 0, 10).default(1),
        maxRelocate: integer("a relocate count", 0, 10).default(1),
      },
      "a mapping of HA settings",
    ).optional(),
  },
  "a VM (a mapping with name, template, node and cloudInit)",
);

const HaPlacementSchema = mapping(
  {
    name: text("a placement name", (v) => VM_NAME.test(v)),
    nodes: list(
      mapping({ node: hostName(), priority: integer("a priority", 0, 1000).optional() }, "a mapping with node"),
      "a list of nodes",
    ).min(1, { error: "empty; a placement needs at least one node" }),
    /** Only these nodes (PVE 8 restricted group / PVE 9 strict rule). Defaults to false. */
    strict: bool().default(false),
    /** Do not move back when a preferred node returns. Defaults to false. */
    nofailback: bool().default(false),
  },
  "a placement (a mapping with name and nodes)",
);

export const HaSchema = mapping(
  {
    placements: list(HaPlacementSchema, "a list of placements").default([]),
  },
  "a mapping of HA settings",
);

export type ImageConfig = z.output<typeof ImageSchema>;

/** A config `images` entry in the catalog's shape (`checksum: "sha256:…"` split into algorithm and digest). */
export function userImageEntry(entry: ImageConfig): Partial<CloudImage> {
  const { checksum, ...rest } = entry;
  const out: Partial<CloudImage> = { ...rest };
  for (const k of Object.keys(out) as (keyof CloudImage)[]) if (out[k] === undefined) delete out[k];
  if (checksum) {
    const [algorithm, digest] = checksum.split(":");
    out.checksumAlgorithm = algorithm as ChecksumAlgorithm;
    out.checksum = digest;
  }
  return out;
}

/** Templates, VMs and HA: references resolve, VMIDs never collide, the API exists. */
export function checkGuests(value: Record<string, unknown>, nodes: Record<string, unknown>[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const nodeNames = nodes.map((n) => n.name).filter(isLabel);
  // With a broken node list (bad or duplicate names) references would only echo that error.
  const nodesComplete = nodeNames.length === nodes.length && new Set(nodeNames).size === nodeNames.length;
  const unknownNode = (name: unknown) => nodesComplete && isLabel(name) && !nodeNames.includes(name);
  const templates = Array.isArray(value.templates) ? value.templates.filter(isRecord) : [];
  const vms = Array.isArray(value.vms) ? value.vms : [];
  const placements = isRecord(value.ha) && Array.isArray(value.ha.placements) ? value.ha.placements : [];
  if ((templates.length > 0 || vms.length > 0) && !isRecord(value.apiAccess)) {
    issues.push({ path: [templates.length > 0 ? "templates" : "vms"], message: "needs apiAccess: templates and VMs use the Proxmox API token" });
  }
  const vmids = new Map<number, string>();
  const claim = (id: unknown, path: (string | number)[]) => {
    if (!isInt(id, 100, 999999999)) return;
    const owner = vmids.get(id);
    if (owner) issues.push({ path, message: `VMID ${id} is already used by ${owner}` });
    else vmids.set(id, pathText(path));
  };
  const userImages = isRecord(value.images) ? value.images : {};
  const known = [...new Set([...KNOWN_IMAGES, ...Object.keys(userImages)])].sort();
  for (const [name, entry] of Object.entries(userImages)) {
    // Entries with field errors already have their messages.
    if (!IMAGE_NAME.test(name)) {
      issues.push({ path: ["images", name], message: notA(name, "an image name (lowercase letters, digits, hyphens, at most 32)") });
      continue;
    }
    const parsed = ImageSchema.safeParse(entry);
    if (!parsed.success) continue;
    try {
      resolveImage(name, { [name]: userImageEntry(parsed.data) });
    } catch (e) {
      // resolveImage says `image "<name>": <problems>`; the path already names the image.
      issues.push({ path: ["images", name], message: (e as Error).message.replace(/^(unknown )?image "[^"]*":? ?/, "") });
    }
  }
  const names = new Set<string>();
  templates.forEach((t, i) => {
    if (unknownNode(t.node)) issues.push({ path: ["templates", i, "node"], message: `no node named ${show(t.node)}` });
    if (isString(t.image) && !known.includes(t.image)) {
      issues.push({ path: ["templates", i, "image"], message: `${show(t.image)} is not a known image (${known.join(", ")}); add it under images` });
    }
    if (isString(t.name)) names.add(t.name);
    claim(t.vmid, ["templates", i, "vmid"]);
  });
  const base = isInt(value.vmidBase, 100, 999999000) ? value.vmidBase : value.vmidBase === undefined ? 200 : undefined;
  vms.forEach((vm, i) => {
    if (!isRecord(vm)) return;
    if (isString(vm.template) && !names.has(vm.template)) issues.push({ path: ["vms", i, "template"], message: `no template named ${show(vm.template)}` });
    if (unknownNode(vm.node)) issues.push({ path: ["vms", i, "node"], message: `no node named ${show(vm.node)}` });
    if (vm.diskGb !== undefined && vm.disks !== undefined) issues.push({ path: ["vms", i, "diskGb"], message: "give either diskGb or disks, not both" });
    if (Array.isArray(vm.disks)) {
      const slots = new Set<string>();
      vm.disks.forEach((d, j) => {
        if (!isRecord(d) || !isString(d.interface)) return;
        if (slots.has(d.interface)) issues.push({ path: ["vms", i, "disks", j, "interface"], message: `${show(d.interface)} is used twice` });
        slots.add(d.interface);
      });
    }
    claim(vm.vmid ?? (base === undefined ? undefined : base + i), ["vms", i, "vmid"]);
    const ha = isRecord(vm.ha) ? vm.ha : undefined;
    if (ha && isString(ha.placement) && !placements.some((p) => isRecord(p) && p.name === ha.placement)) {
      issues.push({ path: ["vms", i, "ha", "placement"], message: `no placement named ${show(ha.placement)} in ha.placements` });
    }
  });
  placements.forEach((p, i) => {
    if (!isRecord(p) || !Array.isArray(p.nodes)) return;
    const before = issues.length;
    p.nodes.forEach((n, j) => {
      if (isRecord(n) && unknownNode(n.node)) {
        issues.push({ path: ["ha", "placements", i, "nodes", j, "node"], message: `no node named ${show(n.node)}` });
      }
    });
    // What the HA placement itself refuses (its name's form, a node twice), once the placement's own fields passed.
    const placement = HaPlacementSchema.safeParse(p);
    if (issues.length === before && placement.success) {
      for (const problem of haPlacementProblems({ name: placement.data.name, nodes: placement.data.nodes, resources: [] })) {
        issues.push({ path: ["ha", "placements", i], message: problem });
      }
    }
  });
  return issues;
}
