import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import type { ApiAccess } from "../../components/api-access";
import { CloudTemplate } from "../../components/cloud-template";
import { GuestAgentSnippet } from "../../components/guest-agent-snippet";
import { HaPlacementComponent } from "../../components/ha";
import { Vm } from "../../components/vm";
import { installsGuestAgent, templateImage, vmVmid } from "../lookup";
import type { Environment } from "../schema";
import type { EnvironmentContext } from "./context";

/** The guests' stack outputs. */
export interface GuestOutputs {
  templates?: Record<string, { vmid: number; node: string }>;
  vms?: Record<
    string,
    {
      vmid: number;
      node: string;
      address: pulumi.Output<string>;
      ipv4: pulumi.Output<string[]>;
      /** The user the baseline logs in as, and the host key it pins (VMs with the baseline). */
      sshUser?: string;
      hostKey?: pulumi.Output<string>;
    }
  >;
}

/** The VM's keys plus the environment's (the baseline logs in with it), once. */
function withKey(keys: string[], environmentKey: pulumi.Output<string> | undefined): pulumi.Input<string[]> {
  if (!environmentKey) return keys;
  const sameKey = (a: string, b: string) => a.split(/\s+/).slice(0, 2).join(" ") === b.split(/\s+/).slice(0, 2).join(" ");
  return environmentKey.apply((key) => (key === "" || keys.some((k) => sameKey(k, key)) ? keys : [...keys, key]));
}

/** Proxmox's `local` dir storage keeps `iso` content here. */
const LOCAL_ISO_DIR = "/var/lib/vz/template/iso";

/**
 * Templates (image downloaded with the native download.File, checksum
 * verified when pinned; template built over SSH with qm), VMs cloned from
 * them (native VmLegacy), and HA placements for the VMs that ask for it.
 */
export function buildGuests(ctx: EnvironmentContext, api: ApiAccess, storage: pulumi.Resource[], sdnApplied?: pulumi.Resource): GuestOutputs {
  const { env } = ctx;
  if (env.templates.length === 0 && env.vms.length === 0) return {};
  const templates: NonNullable<GuestOutputs["templates"]> = {};
  const built = new Map<string, CloudTemplate>();
  const images = new Map(env.templates.map((t) => [t.name, templateImage(env, t)]));
  const installsAgent = (t: Environment["templates"][number]) => installsGuestAgent(env, t);
  // One snippet for every template that needs the agent, on every node (HA may start a clone anywhere).
  const snippet = env.templates.some(installsAgent)
    ? new GuestAgentSnippet(
        `${env.name}-guest-agent`,
        {
          configNode: ctx.access(env.nodes[0]),
          nodes: env.nodes.map((n) => ctx.access(n)),
          storage: env.snippets.storage,
          storagePath: env.snippets.path,
        },
        // storage.cfg is cluster-wide: change it once the cluster exists
        { dependsOn: [api] },
      )
    : undefined;
  // Templates that install the agent, and their clones, reference the snippet.
  const snippetOf = (t: Environment["templates"][number]) => (installsAgent(t) ? snippet : undefined);
  for (const t of env.templates) {
    const image = images.get(t.name)!;
    const agentSnippet = snippetOf(t);
    const download = new proxmoxve.download.File(
      `${env.name}-image-${t.name}`,
      {
        nodeName: t.node,
        datastoreId: "local",
        contentType: "iso",
        url: image.url,
        fileName: image.fileName,
        // Pinned in the catalog (or the stack's images): a file that does not match fails the download.
        checksum: image.checksum,
        checksumAlgorithm: image.checksumAlgorithm,
        overwrite: false,
      },
      { provider: api.provider },
    );
    const template = new CloudTemplate(
      `${env.name}-template-${t.name}`,
      {
        access: ctx.access(t.node),
        vmid: t.vmid,
        templateName: t.name,
        image,
        imagePath: download.id.apply(() => `${LOCAL_ISO_DIR}/${image.fileName}`),
        storage: t.storage,
        bridge: t.bridge,
        diskSize: t.diskSize,
        hardware: { cores: t.cores, memory: t.memoryMb },
        vendorSnippet: agentSnippet?.volid,
      },
      { dependsOn: [download, ...storage, ...(agentSnippet?.ready ?? [])] },
    );
    built.set(t.name, template);
    templates[t.name] = { vmid: t.vmid, node: t.node };
  }

  const vms: NonNullable<GuestOutputs["vms"]> = {};
  const haMembers = new Map<string, { vm: Vm; vmid: number; ha: NonNullable<Environment["vms"][number]["ha"]> }[]>();
  env.vms.forEach((v, index) => {
    const t = env.templates.find((x) => x.name === v.template)!;
    const vmid = vmVmid(env, index);
    const vm = new Vm(
      `${env.name}-vm-${v.name}`,
      {
        provider: api.provider,
        access: ctx.access(v.node),
        node: v.node,
        vmid,
        name: v.name,
        templateVmid: t.vmid,
        templateNode: t.node,
        storage: v.storage ?? t.storage,
        cores: v.cores,
        memoryMb: v.memoryMb,
        disks: v.disks ?? (v.diskGb ? [{ interface: "virtio0", sizeGb: v.diskGb }] : undefined),
        // A VNet is a bridge of that name on the node once SDN is applied.
        networks: v.networks.map((n) => ({ bridge: n.vnet ?? n.bridge ?? "vmbr0", vlanId: n.vlanId, mtu: n.mtu })),
        cloudInit: { ...v.cloudInit, sshKeys: v.baseline ? withKey(v.cloudInit.sshKeys, ctx.sshPublicKey) : v.cloudInit.sshKeys },
        vendorSnippet: snippetOf(t)?.volid,
        readHostKey: v.baseline,
      },
      { dependsOn: [built.get(t.name)!, ...storage, ...(sdnApplied && v.networks.some((n) => n.vnet) ? [sdnApplied] : [])] },
    );
    vms[v.name] = v.baseline
      ? { vmid, node: v.node, address: vm.address, ipv4: vm.ipv4, sshUser: v.cloudInit.user ?? images.get(t.name)!.defaultUser, hostKey: vm.hostKey }
      : { vmid, node: v.node, address: vm.address, ipv4: vm.ipv4 };
    if (v.ha) haMembers.set(v.ha.placement, [...(haMembers.get(v.ha.placement) ?? []), { vm, vmid, ha: v.ha }]);
  });

  for (const placement of env.ha.placements) {
    const members = haMembers.get(placement.name) ?? [];
    if (members.length === 0) continue;
    new HaPlacementComponent(
      `${env.name}-ha-${placement.name}`,
      {
        access: ctx.access(env.nodes[0]),
        placementName: placement.name,
        nodes: placement.nodes,
        strict: placement.strict,
        nofailback: placement.nofailback,
        vms: members.map((m) => ({ vmid: m.vmid, state: m.ha.state, maxRestart: m.ha.maxRestart, maxRelocate: m.ha.maxRelocate })),
      },
      { dependsOn: members.map((m) => m.vm) },
    );
  }
  return { templates, vms };
}
