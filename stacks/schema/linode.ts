/**
 * Linode instances: the schema of `linode` (where, which plan and image,
 * who may reach them) and its checks. The API token is the provider's own
 * secret config (`pulumi config set --secret linode:token`), never here.
 */
import { bool, cidr, integer, list, mapping, oneOf, text } from "./fields";
import { isSshPublicKey } from "./predicates";
import { HOST_ARCHES } from "./hosts";

const LINODE_LABEL = /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,27}[a-z0-9]$/;
const LINODE_REGION = /^[a-z]{2}-[a-z]{3,12}(?:-[0-9])?$/;
const LINODE_TYPE = /^g[0-9]-[a-z0-9]+(?:-[a-z0-9]+)*-[0-9]+$/;
const LINODE_IMAGE = /^(?:linode\/[a-z0-9][a-z0-9.-]{0,40}|private\/[0-9]{1,12})$/;
const LINODE_TAG = /^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,49}$/;
const PORTS = /^[0-9]{1,5}(?:-[0-9]{1,5})?(?:, ?[0-9]{1,5}(?:-[0-9]{1,5})?)*$/;
const RULE_LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/;

/** A Linode label that is also a host name (RFC 1123) and leaves room for the firewall's `fw-` prefix. */
export const isLinodeLabel = (v: unknown): v is string => typeof v === "string" && LINODE_LABEL.test(v);
export const isLinodeRegion = (v: unknown): v is string => typeof v === "string" && LINODE_REGION.test(v);
export const isLinodeType = (v: unknown): v is string => typeof v === "string" && LINODE_TYPE.test(v);

const labelRule = "a Linode label (lowercase letters, digits and single hyphens, 3–29 characters; also the host name)";
const regionRule = 'a Linode region (e.g. "eu-central", "us-ord", "de-fra-2")';
const typeRule = 'a Linode plan (e.g. "g6-standard-2", "g6-dedicated-4")';

export const LinodeFirewallRuleSchema = mapping(
  {
    /** Rule label (3–32 characters). */
    label: text("a firewall rule label (letters, digits, _ . -, 3–32 characters)", (v) => RULE_LABEL.test(v)),
    protocol: oneOf(["TCP", "UDP", "ICMP"] as const, "a protocol"),
    /** "443", "80-90", "22, 6443"; none for ICMP. */
    ports: text('ports ("443", "2379-2380", "22, 6443")', (v) => PORTS.test(v)).optional(),
    /** Source networks. Defaults to linode.adminCidrs. */
    sources: list(cidr(), "a list of IPv4 CIDRs").optional(),
  },
  "a firewall rule (a mapping with label and protocol)",
);

export const LinodeInstanceSchema = mapping(
  {
    label: text(labelRule, isLinodeLabel),
    /** Defaults to linode.region. */
    region: text(regionRule, isLinodeRegion).optional(),
    type: text(typeRule, isLinodeType).default("g6-standard-2"),
    /** A cloud-init capable image (cloud-init installs the pinned host key). Defaults to linode/debian12. */
    image: text('a Linode image ("linode/debian12", "private/12345")', (v) => LINODE_IMAGE.test(v)).default("linode/debian12"),
    tags: list(text("a tag (letters, digits, space _ . : -, at most 50)", (v) => LINODE_TAG.test(v)), "a list of tags").default([]),
    /** An address on the region's private network (K3s nodes talk over it). Defaults to true. */
    privateIp: bool().default(true),
    /** Architecture of the plan's CPUs. Defaults to amd64. */
    arch: oneOf(HOST_ARCHES, "an architecture").default("amd64"),
  },
  "a Linode instance (a mapping with label)",
);

export const LinodeSchema = mapping(
  {
    /** Region of instances that name none. */
    region: text(regionRule, isLinodeRegion),
    /** Who may reach SSH and the Kubernetes API: every other source is dropped by the Cloud Firewall. */
    adminCidrs: list(cidr(), "a list of IPv4 CIDRs").min(1, { error: "empty; at least one admin network is required" }),
    /** Public keys allowed to log in as root (homelab's own key among them). */
    authorizedKeys: list(text("an SSH public key", isSshPublicKey), "a list of SSH public keys").min(1, {
      error: "empty; at least one key is required (the one secrets.sshPrivateKey opens)",
    }),
    /** Inbound rules added to SSH (and 6443 on K3s servers) from adminCidrs. Defaults to none. */
    firewall: list(LinodeFirewallRuleSchema, "a list of firewall rules").default([]),
    /** Seconds to wait for SSH after an instance is created. Defaults to 600. */
    readyTimeoutSeconds: integer("a number of seconds", 30, 3600).default(600),
    instances: list(LinodeInstanceSchema, "a list of Linode instances").default([]),
  },
  "a mapping of Linode settings (region, adminCidrs, authorizedKeys, instances)",
);
