/**
 * Catalog of generic cloud images that CloudTemplate builds templates from.
 *
 * Each entry names where the image comes from and how to verify it. The lead's
 * wiring downloads it with the native `proxmoxve.download.File` (checksum
 * verified on the node) and passes the downloaded file's path to the
 * CloudTemplate component.
 *
 * PINS MUST BE REFRESHED. The URLs below are the upstream "latest" aliases,
 * whose content changes with every upstream rebuild; the matching checksum is
 * published next to the image (`checksumUrl`). This catalog carries no pinned
 * `checksum` values because they could not be fetched when it was written.
 * Before relying on download verification, pin `checksum` (and ideally a dated
 * URL such as `.../bookworm/20250210-2019/debian-12-genericcloud-amd64-20250210-2019.qcow2`)
 * from the published checksum file, and refresh both together when upgrading.
 * A changed `checksum` or `url` changes the template's input hash and so
 * replaces the template (by design).
 *
 * Sources (official): Rocky Linux publishes GenericCloud images at
 * https://dl.rockylinux.org/pub/rocky/<major>/images/x86_64/ with a per-file
 * `<image>.CHECKSUM` (sha256, BSD format); Debian publishes cloud images at
 * https://cloud.debian.org/images/cloud/<codename>/latest/ with `SHA512SUMS`.
 */

/** Checksum algorithms `proxmoxve.download.File` can verify. */
export type ChecksumAlgorithm = "md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512";

/** One catalog entry (built-in or from config, same shape). */
export interface CloudImage {
  /** Catalog key, e.g. "rocky9". */
  name: string;
  /** Human readable name. */
  description: string;
  /** Download URL of the qcow2 image. */
  url: string;
  /**
   * File name on the node. Proxmox's `iso` content type only accepts `.iso`/`.img`
   * names, so qcow2 images are stored as `.img` (qm importdisk detects the format).
   */
  fileName: string;
  /** Algorithm of `checksum` / the checksum file. */
  checksumAlgorithm: ChecksumAlgorithm;
  /** Pinned checksum of the file at `url` (hex). Absent until pinned; see the file comment. */
  checksum?: string;
  /** URL of the upstream checksum file that lists `url`'s checksum. */
  checksumUrl?: string;
  /** Guest OS type for `qm --ostype`. Defaults to "l26". */
  ostype: string;
  /** The image's default cloud-init user. */
  defaultUser: string;
  /** Tags given to templates built from this image. */
  tags: string[];
}

const ROCKY = "https://dl.rockylinux.org/pub/rocky";
const DEBIAN = "https://cloud.debian.org/images/cloud";

/** Built-in images. Keys are the names stack files use. */
export const IMAGE_CATALOG: Readonly<Record<string, CloudImage>> = {
  rocky9: {
    name: "rocky9",
    description: "Rocky Linux 9 GenericCloud (x86_64)",
    url: `${ROCKY}/9/images/x86_64/Rocky-9-GenericCloud.latest.x86_64.qcow2`,
    fileName: "Rocky-9-GenericCloud.latest.x86_64.img",
    checksumAlgorithm: "sha256",
    checksumUrl: `${ROCKY}/9/images/x86_64/Rocky-9-GenericCloud.latest.x86_64.qcow2.CHECKSUM`,
    ostype: "l26",
    defaultUser: "rocky",
    tags: ["rocky9", "cloudinit"],
  },
  rocky10: {
    name: "rocky10",
    description: "Rocky Linux 10 GenericCloud-Base (x86_64)",
    url: `${ROCKY}/10/images/x86_64/Rocky-10-GenericCloud-Base.latest.x86_64.qcow2`,
    fileName: "Rocky-10-GenericCloud-Base.latest.x86_64.img",
    checksumAlgorithm: "sha256",
    checksumUrl: `${ROCKY}/10/images/x86_64/Rocky-10-GenericCloud-Base.latest.x86_64.qcow2.CHECKSUM`,
    ostype: "l26",
    defaultUser: "rocky",
    tags: ["rocky10", "cloudinit"],
  },
  debian12: {
    name: "debian12",
    description: "Debian 12 (bookworm) genericcloud (amd64)",
    url: `${DEBIAN}/bookworm/latest/debian-12-genericcloud-amd64.qcow2`,
    fileName: "debian-12-genericcloud-amd64.img",
    checksumAlgorithm: "sha512",
    checksumUrl: `${DEBIAN}/bookworm/latest/SHA512SUMS`,
    ostype: "l26",
    defaultUser: "debian",
    tags: ["debian12", "cloudinit"],
  },
  debian13: {
    name: "debian13",
    description: "Debian 13 (trixie) genericcloud (amd64)",
    url: `${DEBIAN}/trixie/latest/debian-13-genericcloud-amd64.qcow2`,
    fileName: "debian-13-genericcloud-amd64.img",
    checksumAlgorithm: "sha512",
    checksumUrl: `${DEBIAN}/trixie/latest/SHA512SUMS`,
    ostype: "l26",
    defaultUser: "debian",
    tags: ["debian13", "cloudinit"],
  },
};

const HEX_LENGTH: Record<ChecksumAlgorithm, number> = { md5: 32, sha1: 40, sha224: 56, sha256: 64, sha384: 96, sha512: 128 };

/**
 * Look an image up: user entries (from config, same shape) first, then the
 * built-in catalog. Pure; throws a clear error for unknown names and malformed
 * entries. A user entry with a built-in's name overrides it.
 */
export function resolveImage(name: string, userCatalog: Readonly<Record<string, Partial<CloudImage>>> = {}): CloudImage {
  const user = Object.prototype.hasOwnProperty.call(userCatalog, name) ? userCatalog[name] : undefined;
  const builtin = Object.prototype.hasOwnProperty.call(IMAGE_CATALOG, name) ? IMAGE_CATALOG[name] : undefined;
  if (!user && !builtin) {
    const known = [...new Set([...Object.keys(IMAGE_CATALOG), ...Object.keys(userCatalog)])].sort();
    throw new Error(`unknown image "${name}"; known images: ${known.join(", ")}`);
  }
  const merged = { ...(builtin ?? {}), ...(user ?? {}), name } as Partial<CloudImage>;
  if (user && !builtin) {
    merged.ostype ??= "l26";
    merged.tags ??= [];
    merged.description ??= name;
  }
  const problems: string[] = [];
  if (!merged.url || !/^https?:\/\/\S+$/.test(merged.url)) problems.push("url must be an http(s) URL");
  if (!merged.fileName) {
    const base = merged.url?.split("/").pop()?.split("?")[0] ?? "";
    merged.fileName = base.replace(/\.(qcow2|raw)$/, ".img");
  }
  if (!merged.fileName || !/^[A-Za-z0-9._-]+\.(img|iso|qcow2|raw)$/.test(merged.fileName)) problems.push(`fileName "${merged.fileName}" must be a plain file name ending in .img`);
  const algo = merged.checksumAlgorithm;
  if (!algo || !(algo in HEX_LENGTH)) problems.push(`checksumAlgorithm must be one of ${Object.keys(HEX_LENGTH).join(", ")}`);
  if (merged.checksum !== undefined) {
    merged.checksum = merged.checksum.toLowerCase();
    if (algo && algo in HEX_LENGTH && !new RegExp(`^[0-9a-f]{${HEX_LENGTH[algo]}}$`).test(merged.checksum)) problems.push(`checksum is not a ${algo} hex digest`);
  }
  if (merged.checksum === undefined && !merged.checksumUrl) problems.push("either checksum or checksumUrl is required");
  if (!merged.defaultUser) problems.push("defaultUser is required");
  if (problems.length) throw new Error(`image "${name}": ${problems.join("; ")}`);
  return merged as CloudImage;
}
