/**
 * Catalog of generic cloud images that CloudTemplate builds templates from.
 *
 * Every entry is pinned: a dated build URL plus the checksum of that exact
 * file. `proxmoxve.download.File` verifies the checksum on the node, so a
 * download that does not match fails instead of becoming a template, and the
 * same stack builds the same templates next month. The upstream "latest"
 * aliases are not used: their content changes with every rebuild.
 *
 * Refreshing a pin: take the dated file name and its digest from the
 * published checksum file (`checksumUrl`, next to the image; Rocky's is
 * GPG-signed as CHECKSUM.asc) and change `url`, `fileName` and `checksum`
 * together. A changed checksum changes the template's input hash and so
 * replaces templates built from it (by design). Between releases of homelab a
 * stack can override a pin without code: `images.<name>` in the stack file
 * (see README, "Images").
 *
 * Upstream prunes old builds eventually (Rocky moves superseded point releases
 * to vault.rockylinux.org, Debian removes old dated directories); a 404 on
 * download means the pin needs refreshing.
 *
 * Pins as of 2026-11: Rocky 9.8 and 10.2 (20260525.0), the digests matching
 * the published CHECKSUM files (cross-checked in two independent public
 * projects that verify them on download); Debian 12 20261006-2623 and
 * Debian 13 20261001-2618 from their SHA512SUMS.
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
  /** Pinned checksum of the file at `url` (hex); `download.File` verifies it on the node. */
  checksum: string;
  /** Where the pin comes from: the upstream checksum file that lists `url`'s digest. */
  checksumUrl?: string;
  /** Guest OS type for `qm --ostype`. Defaults to "l26". */
  ostype: string;
  /** The image's default cloud-init user. */
  defaultUser: string;
  /** Tags given to templates built from this image. */
  tags: string[];
  /**
   * Whether the image ships qemu-guest-agent (enabled at boot). Rocky's
   * GenericCloud images do; Debian's genericcloud images do not, so their
   * templates get a cloud-init vendor snippet that installs it.
   */
  guestAgent: boolean;
}

const ROCKY = "https://dl.rockylinux.org/pub/rocky";
const DEBIAN = "https://cloud.debian.org/images/cloud";

/** Built-in images. Keys are the names stack files use. */
export const IMAGE_CATALOG: Readonly<Record<string, CloudImage>> = {
  rocky9: {
    name: "rocky9",
    description: "Rocky Linux 9.8 GenericCloud-Base 20260525.0 (x86_64)",
    url: `${ROCKY}/9.8/images/x86_64/Rocky-9-GenericCloud-Base-9.8-20260525.0.x86_64.qcow2`,
    fileName: "Rocky-9-GenericCloud-Base-9.8-20260525.0.x86_64.img",
    checksumAlgorithm: "sha256",
    checksum: "92c206cc6f790c61583247eefe87890f8828420662c17cacf247cec78ab4eec8",
    checksumUrl: `${ROCKY}/9.8/images/x86_64/Rocky-9-GenericCloud-Base-9.8-20260525.0.x86_64.qcow2.CHECKSUM`,
    ostype: "l26",
    defaultUser: "rocky",
    tags: ["rocky9", "cloudinit"],
    guestAgent: true,
  },
  rocky10: {
    name: "rocky10",
    description: "Rocky Linux 10.2 GenericCloud-Base 20260525.0 (x86_64)",
    url: `${ROCKY}/10.2/images/x86_64/Rocky-10-GenericCloud-Base-10.2-20260525.0.x86_64.qcow2`,
    fileName: "Rocky-10-GenericCloud-Base-10.2-20260525.0.x86_64.img",
    checksumAlgorithm: "sha256",
    checksum: "9fc9e9ff16888bb68ac39b0392e25c9c92684d50c85f1cce6ab549363bbc4b48",
    checksumUrl: `${ROCKY}/10.2/images/x86_64/Rocky-10-GenericCloud-Base-10.2-20260525.0.x86_64.qcow2.CHECKSUM`,
    ostype: "l26",
    defaultUser: "rocky",
    tags: ["rocky10", "cloudinit"],
    guestAgent: true,
  },
  debian12: {
    name: "debian12",
    description: "Debian 12 (bookworm) genericcloud 20261006-2623 (amd64)",
    url: `${DEBIAN}/bookworm/20261006-2623/debian-12-genericcloud-amd64-20261006-2623.qcow2`,
    fileName: "debian-12-genericcloud-amd64-20261006-2623.img",
    checksumAlgorithm: "sha512",
    checksum:
      "a09170d17e13af43da61774666f520e3bbec0f8bd96b4db37c15f3426fb327ccad950b80dbe78c09aa5ca90ce5015e99334b0ba5188fd4018736bc3fb5f0882c",
    checksumUrl: `${DEBIAN}/bookworm/20261006-2623/SHA512SUMS`,
    ostype: "l26",
    defaultUser: "debian",
    tags: ["debian12", "cloudinit"],
    guestAgent: false,
  },
  debian13: {
    name: "debian13",
    description: "Debian 13 (trixie) genericcloud 20261001-2618 (amd64)",
    url: `${DEBIAN}/trixie/20261001-2618/debian-13-genericcloud-amd64-20261001-2618.qcow2`,
    fileName: "debian-13-genericcloud-amd64-20261001-2618.img",
    checksumAlgorithm: "sha512",
    checksum:
      "f46f0671a6e5bdec5291ab8972bae2f10e5408c2f64a74078f11efc2f06a436a9d0313ed50e0472542eeabf780e9f7c792ac0a314c6c20507fcd9fd81b468c3d",
    checksumUrl: `${DEBIAN}/trixie/20261001-2618/SHA512SUMS`,
    ostype: "l26",
    defaultUser: "debian",
    tags: ["debian13", "cloudinit"],
    guestAgent: false,
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
  const problems: string[] = [];
  if (user?.url !== undefined && builtin && user.url !== builtin.url) {
    // A new URL is a new file: the built-in's pin and file name do not apply to it.
    if (user.checksum === undefined) problems.push("checksum is required when url is overridden");
    if (user.fileName === undefined) delete merged.fileName;
  }
  if (user && !builtin) {
    merged.ostype ??= "l26";
    merged.tags ??= [];
    merged.description ??= name;
    merged.guestAgent ??= false;
  }
  if (!merged.url || !/^https?:\/\/\S+$/.test(merged.url)) problems.push("url must be an http(s) URL");
  if (!merged.fileName) {
    const base = merged.url?.split("/").pop()?.split("?")[0] ?? "";
    merged.fileName = base.replace(/\.(qcow2|raw)$/, ".img");
  }
  // Proxmox's iso content type only takes .img/.iso names (qm importdisk still detects qcow2).
  if (!merged.fileName || !/^[A-Za-z0-9._-]+\.(img|iso)$/.test(merged.fileName)) problems.push(`fileName "${merged.fileName}" must be a plain file name ending in .img`);
  const algo = merged.checksumAlgorithm;
  if (merged.checksum === undefined) {
    problems.push("checksum is required (downloads are verified against a pinned digest)");
  } else if (!algo || !(algo in HEX_LENGTH)) {
    problems.push(`checksumAlgorithm must be one of ${Object.keys(HEX_LENGTH).join(", ")}`);
  } else {
    merged.checksum = merged.checksum.toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${HEX_LENGTH[algo]}}$`).test(merged.checksum)) problems.push(`checksum is not a ${algo} hex digest`);
  }
  if (!merged.defaultUser) problems.push("defaultUser is required");
  if (problems.length) throw new Error(`image "${name}": ${problems.join("; ")}`);
  return merged as CloudImage;
}
