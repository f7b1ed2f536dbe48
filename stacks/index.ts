/**
 * Pulumi entry point (Pulumi.yaml `main:`). Loads under the CLI (`pulumi up`)
 * and under the Automation API (LocalWorkspace on this folder) alike.
 */
import { runProgram } from "./program";

const outputs = runProgram();

/** Per node: management address and Proxmox version. */
export const nodes = outputs.nodes;
/** Cluster name, members with their corosync links, quorum. */
export const cluster = outputs.cluster;
/** API endpoint, token id, and the token secret (a Pulumi secret). */
export const api = outputs.api;
/** Thunderbolt ring verification: reachability per pair, bandwidth per cable. */
export const ring = outputs.ring;
/** Ceph health, OSDs up/in, raw and per-pool capacity. */
export const ceph = outputs.ceph;
/** Templates by name: VMID and build node. */
export const templates = outputs.templates;
/** VMs by name: VMID, node, and the addresses the guest agent reports. */
export const vms = outputs.vms;
/** Plain hosts, Linode instances and K3s VMs: address and pinned SSH host key. */
export const hosts = outputs.hosts;
/** K3s and Talos clusters by name: kubeconfig (a Pulumi secret), API endpoint, node names; Talos's also talosconfig (a Pulumi secret) and endpoints. */
export const kubernetes = outputs.kubernetes;
