/**
 * Proxmox VE on a plain Debian host, the way the Proxmox wiki documents it
 * ("Install Proxmox VE on Debian 12 Bookworm" / "… 13 Trixie"): which Debian
 * release carries which Proxmox VE major, where its repository and release key
 * go (and the key's pinned digest), and, from what a host says about itself,
 * which steps are still to do. No I/O: the provider
 * (infra/providers/proxmox/pve-install.ts) reads the host and runs the steps.
 */
import { aptRepoFiles } from "./baseline";

/** The Debian release each supported Proxmox VE major installs on. */
export function debianReleaseFor(pveMajor: number): { versionId: string; codename: string } | undefined {
  return ({ 8: { versionId: "12", codename: "bookworm" }, 9: { versionId: "13", codename: "trixie" } } as Record<number, { versionId: string; codename: string }>)[pveMajor];
}

/** The Proxmox release key: where it is downloaded from, where apt reads it, its pinned digest. */
export interface ReleaseKey {
  url: string;
  path: string;
  /** "sha256:<hex>" or "sha512:<hex>", as the wiki publishes it. */
  digest: string;
}

/** The no-subscription repository file and the release key of a Proxmox VE major. */
export interface PveInstallSource {
  repository: { path: string; content: string };
  key: ReleaseKey;
}

/**
 * The repository file is the baseline's own pve-no-subscription file (same path
 * and content), so the baseline finds it in place afterwards. Digests: the
 * wiki's `sha512sum` (bookworm) and `sha256sum` (trixie) outputs.
 */
export function pveInstallSource(pveMajor: number): PveInstallSource {
  const repository = aptRepoFiles(pveMajor, "squid").pveNoSubscription;
  if (pveMajor === 8) {
    return {
      repository: { path: repository.path, content: repository.content },
      key: {
        url: "https://enterprise.proxmox.com/debian/proxmox-release-bookworm.gpg",
        path: "/etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg",
        digest:
          "sha512:7da6fe34168adc6e479327ba517796d4702fa2f8b4f0a9833f5ea6e6b48f6507a6da403a274fe201595edc86a84463d50383d07f64bdde2e3658108db7d6dc87",
      },
    };
  }
  return {
    repository: { path: repository.path, content: repository.content },
    key: {
      url: "https://enterprise.proxmox.com/debian/proxmox-archive-keyring-trixie.gpg",
      path: "/usr/share/keyrings/proxmox-archive-keyring.gpg",
      digest: "sha256:136673be77aba35dcce385b28737689ad64fd785a797e57897589aed08db6e45",
    },
  };
}

/** /etc/os-release as KEY → value (quotes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(raw.trim());
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
  }
  return out;
}

/** What a host says about itself, as far as the install cares. */
export interface InstallFacts {
  /** /etc/os-release ID, VERSION_ID, VERSION_CODENAME. */
  osId: string;
  versionId: string;
  codename: string;
  /** Installed packages among proxmox-ve, proxmox-default-kernel, the Debian kernels and os-prober. */
  packages: string[];
  /** `uname -r`. */
  runningKernel: string;
  /** pve-manager version when pveversion answers, else "". */
  pveVersion: string;
  /** `hostname --ip-address`, split into words. */
  hostnameAddresses: string[];
  /** The release key's digest on the host in the pinned digest's form, "" when the file is missing. */
  keyDigest: string;
  /** The repository file's content, "" when missing. */
  repositoryContent: string;
}

export type InstallStep = "hosts" | "key" | "repository" | "kernel" | "reboot" | "proxmox-ve" | "remove-debian-kernel" | "remove-os-prober";

/** What the install wants: the major, its key and repository, the node's address. */
export interface InstallTarget {
  node: string;
  pveMajor: number;
  address: string;
  source: PveInstallSource;
}

/** Debian kernel packages (`linux-image-amd64 'linux-image-6.*'`; Proxmox kernels are proxmox-kernel-*). */
export function debianKernels(packages: readonly string[]): string[] {
  return packages.filter((p) => p === "linux-image-amd64" || /^linux-image-6\./.test(p)).sort();
}

/** A Proxmox kernel runs. */
export function runsProxmoxKernel(kernel: string): boolean {
  return /-pve$/.test(kernel);
}

/** Why the install cannot run on this host; empty when it can. Checked before any change. */
export function installRefusals(t: InstallTarget, f: InstallFacts): string[] {
  const want = debianReleaseFor(t.pveMajor);
  if (!want) return [`${t.node}: Proxmox VE ${t.pveMajor} cannot be installed from Debian here; supported: Proxmox VE 8 (Debian 12) and 9 (Debian 13)`];
  if (f.pveVersion) {
    const major = Number(f.pveVersion.split(".")[0]);
    return major === t.pveMajor
      ? []
      : [`${t.node}: runs Proxmox VE ${f.pveVersion}, not ${t.pveMajor}; a major upgrade is not an install (follow the Proxmox upgrade guide, or set the requested major to ${major})`];
  }
  return debianReleaseProblems(t.node, t.pveMajor, f.osId, f.versionId, f.codename);
}

/** The host's release (os-release ID, VERSION_ID, VERSION_CODENAME) cannot take that major; empty when it can. */
export function debianReleaseProblems(node: string, pveMajor: number, osId: string, versionId: string, codename: string): string[] {
  const want = debianReleaseFor(pveMajor);
  if (!want) return [`${node}: Proxmox VE ${pveMajor} cannot be installed from Debian here; supported: Proxmox VE 8 (Debian 12) and 9 (Debian 13)`];
  const os = `${osId || "unknown"} ${versionId || "?"}${codename ? ` (${codename})` : ""}`;
  if (osId !== "debian") return [`${node}: runs ${os}, not Debian; Proxmox VE ${pveMajor} installs on Debian ${want.versionId} (${want.codename})`];
  if (versionId !== want.versionId) {
    return [`${node}: runs Debian ${versionId} (${codename}), but Proxmox VE ${pveMajor} installs on Debian ${want.versionId} (${want.codename}); refusing to change anything`];
  }
  return [];
}

/** The steps still to do, in order; empty when the host runs Proxmox VE and nothing of Debian's boot is left. */
export function pendingSteps(t: InstallTarget, f: InstallFacts): InstallStep[] {
  const has = (p: string) => f.packages.includes(p);
  const proxmoxVe = has("proxmox-ve") && !!f.pveVersion;
  const steps: InstallStep[] = [];
  if (!proxmoxVe) {
    if (!hostnameResolves(t, f)) steps.push("hosts");
    if (f.keyDigest !== t.source.key.digest) steps.push("key");
    if (f.repositoryContent !== t.source.repository.content) steps.push("repository");
  }
  if (!runsProxmoxKernel(f.runningKernel)) {
    // A node running Proxmox VE on a Debian kernel already (an ISO install never does) is left alone.
    if (!proxmoxVe) {
      if (!has("proxmox-default-kernel")) steps.push("kernel");
      steps.push("reboot");
    }
  }
  if (!proxmoxVe) steps.push("proxmox-ve");
  // Never the kernel that runs: Debian's kernels go once a Proxmox kernel has booted (or will have, after the reboot above).
  const bootsProxmox = runsProxmoxKernel(f.runningKernel) || steps.includes("reboot");
  if (bootsProxmox && debianKernels(f.packages).length > 0) steps.push("remove-debian-kernel");
  if (has("os-prober")) steps.push("remove-os-prober");
  return steps;
}

/** `hostname --ip-address` names the node's address and no other loopback address (Debian's 127.0.1.1). */
export function hostnameResolves(t: Pick<InstallTarget, "address">, f: Pick<InstallFacts, "hostnameAddresses">): boolean {
  return f.hostnameAddresses.includes(t.address) && !f.hostnameAddresses.some((a) => a !== t.address && (a.startsWith("127.") || a === "::1"));
}
