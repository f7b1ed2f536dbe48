/**
 * Marked blocks inside files people also edit by hand (/etc/hosts,
 * /etc/network/interfaces, frr.conf): only the lines between our markers are
 * ours, everything else is left exactly as it was.
 */

export function beginMarker(id: string): string {
  return `# BEGIN homelab ${id} (managed by Pulumi; edits inside this block are overwritten)`;
}

export function endMarker(id: string): string {
  return `# END homelab ${id}`;
}

/** The content currently inside block `id`, or undefined when the file has no such block. */
export function readBlock(text: string, id: string): string | undefined {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => isBegin(l, id));
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.trim() === endMarker(id));
  if (end < 0) throw new Error(`block "${id}" has a BEGIN marker but no END marker; fix the file by hand`);
  return lines.slice(start + 1, end).join("\n");
}

/**
 * Put `content` into block `id`: replaced in place when the block exists,
 * appended otherwise (or inserted before the first line matching `before`).
 */
export function writeBlock(text: string, id: string, content: string, before?: RegExp): string {
  const body = content.replace(/\n+$/, "");
  const block = [beginMarker(id), ...(body === "" ? [] : body.split("\n")), endMarker(id)];
  const lines = splitLines(text);
  const start = lines.findIndex((l) => isBegin(l, id));
  if (start >= 0) {
    const end = lines.findIndex((l, i) => i > start && l.trim() === endMarker(id));
    if (end < 0) throw new Error(`block "${id}" has a BEGIN marker but no END marker; fix the file by hand`);
    lines.splice(start, end - start + 1, ...block);
  } else {
    const at = before ? lines.findIndex((l) => before.test(l)) : -1;
    if (at >= 0) lines.splice(at, 0, ...block, "");
    else {
      if (lines.length > 0 && lines[lines.length - 1].trim() !== "") lines.push("");
      lines.push(...block);
    }
  }
  return lines.join("\n") + "\n";
}

/** Remove block `id` (and nothing else). */
export function removeBlock(text: string, id: string): string {
  const lines = splitLines(text);
  const start = lines.findIndex((l) => isBegin(l, id));
  if (start < 0) return text;
  const end = lines.findIndex((l, i) => i > start && l.trim() === endMarker(id));
  if (end < 0) throw new Error(`block "${id}" has a BEGIN marker but no END marker; fix the file by hand`);
  lines.splice(start, end - start + 1);
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

function isBegin(line: string, id: string): boolean {
  const t = line.trim();
  return t === beginMarker(id) || t.startsWith(`# BEGIN homelab ${id} `) || t === `# BEGIN homelab ${id}`;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  return text.replace(/\n$/, "").split("\n");
}
