/** Which Proxmox storage types can hold which content (pve-storage plugins' `plugindata`). */

/** File content types live only on file-based storages; the API judges the rest. */
export function supportsContent(storageType: string, content: string): boolean {
  if (!["snippets", "vztmpl", "iso", "backup"].includes(content)) return true;
  return ["dir", "nfs", "cifs", "cephfs", "glusterfs", "btrfs"].includes(storageType);
}
