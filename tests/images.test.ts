import { describe, expect, it } from "vitest";
import { IMAGE_CATALOG, resolveImage } from "../infra/images";

const HEX: Record<string, number> = { sha256: 64, sha512: 128 };

describe("image catalog", () => {
  it("pins Rocky 9, Rocky 10, Debian 12 and Debian 13 to dated official builds with their digests", () => {
    expect(Object.keys(IMAGE_CATALOG).sort()).toEqual(["debian12", "debian13", "rocky10", "rocky9"]);
    expect(IMAGE_CATALOG.rocky9).toMatchObject({
      url: "https://dl.rockylinux.org/pub/rocky/9.8/images/x86_64/Rocky-9-GenericCloud-Base-9.8-20260525.0.x86_64.qcow2",
      checksumAlgorithm: "sha256",
      checksum: "92c206cc6f790c61583247eefe87890f8828420662c17cacf247cec78ab4eec8",
    });
    expect(IMAGE_CATALOG.rocky10.checksum).toBe("9fc9e9ff16888bb68ac39b0392e25c9c92684d50c85f1cce6ab549363bbc4b48");
    expect(IMAGE_CATALOG.debian12.url).toBe("https://cloud.debian.org/images/cloud/bookworm/20261006-2623/debian-12-genericcloud-amd64-20261006-2623.qcow2");
    expect(IMAGE_CATALOG.debian13.checksumUrl).toBe("https://cloud.debian.org/images/cloud/trixie/20261001-2618/SHA512SUMS");
    for (const img of Object.values(IMAGE_CATALOG)) {
      // a "latest" alias changes under a pinned digest: every entry names one dated build
      expect(img.url).not.toMatch(/latest/);
      expect(img.url).toMatch(/^https:\/\/(dl\.rockylinux\.org|cloud\.debian\.org)\//);
      expect(img.checksum).toMatch(new RegExp(`^[0-9a-f]{${HEX[img.checksumAlgorithm]}}$`));
      expect(img.fileName).toBe(img.url.split("/").pop()!.replace(/\.qcow2$/, ".img"));
      expect(img.ostype).toBe("l26");
      expect(img.defaultUser).toBe(img.name.startsWith("rocky") ? "rocky" : "debian");
      // Rocky's GenericCloud images ship qemu-guest-agent, Debian's genericcloud images do not
      expect(img.guestAgent).toBe(img.name.startsWith("rocky"));
      expect(resolveImage(img.name)).toEqual(img);
    }
  });

  it("resolves user entries (same shape) and lets them override built-ins", () => {
    const user = {
      alma9: { url: "https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/AlmaLinux-9-GenericCloud-9.6-20250522.x86_64.qcow2", checksumAlgorithm: "sha256" as const, checksum: "A".repeat(64), defaultUser: "almalinux" },
      rocky9: { checksum: "b".repeat(64) },
    };
    const alma = resolveImage("alma9", user);
    expect(alma).toMatchObject({ name: "alma9", ostype: "l26", tags: [], guestAgent: false, fileName: "AlmaLinux-9-GenericCloud-9.6-20250522.x86_64.img", checksum: "a".repeat(64) });
    expect(resolveImage("rocky9", user)).toMatchObject({ url: IMAGE_CATALOG.rocky9.url, checksum: "b".repeat(64), defaultUser: "rocky", guestAgent: true });
  });

  it("a new URL for a built-in takes its own file name and must bring its own digest", () => {
    const url = "https://dl.rockylinux.org/pub/rocky/9.9/images/x86_64/Rocky-9-GenericCloud-Base-9.9-20261120.0.x86_64.qcow2";
    expect(() => resolveImage("rocky9", { rocky9: { url } })).toThrow(/^image "rocky9": checksum is required when url is overridden$/);
    const newer = resolveImage("rocky9", { rocky9: { url, checksum: "c".repeat(64) } });
    expect(newer).toMatchObject({ url, fileName: "Rocky-9-GenericCloud-Base-9.9-20261120.0.x86_64.img", checksum: "c".repeat(64), defaultUser: "rocky" });
  });

  it("refuses unknown names and malformed entries with clear errors", () => {
    expect(() => resolveImage("ubuntu24")).toThrow(/^unknown image "ubuntu24"; known images: debian12, debian13, rocky10, rocky9$/);
    expect(() => resolveImage("x", { x: { url: "ftp://x/y.qcow2", checksumAlgorithm: "sha256", checksum: "12", defaultUser: "u" } })).toThrow(
      /^image "x": url must be an http\(s\) URL; checksum is not a sha256 hex digest$/,
    );
    expect(() => resolveImage("y", { y: { url: "https://h/y.qcow2", checksumAlgorithm: "sha256" } })).toThrow(
      /^image "y": checksum is required \(downloads are verified against a pinned digest\); defaultUser is required$/,
    );
    expect(() => resolveImage("z", { z: { url: "https://h/z.qcow2", fileName: "z.qcow2", checksumAlgorithm: "sha256", checksum: "d".repeat(64), defaultUser: "u" } })).toThrow(
      /fileName "z.qcow2" must be a plain file name ending in .img/,
    );
  });
});
