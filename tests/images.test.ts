import { describe, expect, it } from "vitest";
import { IMAGE_CATALOG, resolveImage } from "../infra/images";

describe("image catalog", () => {
  it("has Rocky 9, Rocky 10, Debian 12 and Debian 13 with official URLs and checksum sources", () => {
    expect(Object.keys(IMAGE_CATALOG).sort()).toEqual(["debian12", "debian13", "rocky10", "rocky9"]);
    expect(IMAGE_CATALOG.rocky9.url).toBe("https://dl.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud.latest.x86_64.qcow2");
    expect(IMAGE_CATALOG.rocky10.url).toMatch(/\/Rocky-10-GenericCloud-Base\.latest\.x86_64\.qcow2$/);
    expect(IMAGE_CATALOG.debian12.url).toBe("https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2");
    expect(IMAGE_CATALOG.debian13.checksumUrl).toBe("https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS");
    for (const img of Object.values(IMAGE_CATALOG)) {
      expect(img.ostype).toBe("l26");
      expect(img.defaultUser).toBe(img.name.startsWith("rocky") ? "rocky" : "debian");
      expect(img.fileName).toMatch(/\.img$/);
      expect(resolveImage(img.name)).toEqual(img);
    }
  });

  it("resolves user entries (same shape) and lets them override built-ins", () => {
    const user = {
      alma9: { url: "https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/AlmaLinux-9-GenericCloud-latest.x86_64.qcow2", checksumAlgorithm: "sha256" as const, checksum: "A".repeat(64), defaultUser: "almalinux" },
      rocky9: { checksum: "b".repeat(64) },
    };
    const alma = resolveImage("alma9", user);
    expect(alma).toMatchObject({ name: "alma9", ostype: "l26", tags: [], fileName: "AlmaLinux-9-GenericCloud-latest.x86_64.img", checksum: "a".repeat(64) });
    expect(resolveImage("rocky9", user)).toMatchObject({ url: IMAGE_CATALOG.rocky9.url, checksum: "b".repeat(64), defaultUser: "rocky" });
  });

  it("refuses unknown names and malformed entries with clear errors", () => {
    expect(() => resolveImage("ubuntu24")).toThrow(/^unknown image "ubuntu24"; known images: debian12, debian13, rocky10, rocky9$/);
    expect(() => resolveImage("x", { x: { url: "ftp://x/y.qcow2", checksumAlgorithm: "sha256", checksum: "12", defaultUser: "u" } })).toThrow(
      /^image "x": url must be an http\(s\) URL; checksum is not a sha256 hex digest$/,
    );
    expect(() => resolveImage("y", { y: { url: "https://h/y.qcow2", checksumAlgorithm: "sha256" } })).toThrow(/either checksum or checksumUrl is required; defaultUser is required/);
  });
});
