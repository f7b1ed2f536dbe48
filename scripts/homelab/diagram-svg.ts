/**
 * A topology as a standalone SVG, laid out here without a browser: the
 * networks as horizontal buses at the top (CIDR, MTU, roles), the machines
 * as boxes in one row below (their interfaces listed), a vertical drop from
 * each box to every network it has an address on, the Thunderbolt cables as
 * arcs under the boxes, and the Kubernetes clusters at the bottom wired to
 * the machines that carry them. Sizes come from character counts (monospace
 * text), so the same topology always gives the same bytes.
 */
import { clusterText, machineTitle, networkText } from "./diagram-mermaid";
import type { Topology, TopoInterface, TopoMachine } from "./topology";

const CHAR_W = 7.3;
const LINE_H = 16;
const MARGIN = 20;
const BUS_GAP = 40;
const BOX_GAP = 40;
/** Room between the lowest bus and the boxes for the drops' address labels. */
const DROP_ROOM = 120;
const DROP_STEP = 14;

const COLORS = ["#2f6db3", "#2e8b3e", "#b3462f", "#7a4fb0", "#c77700", "#0f8a8a", "#8a8a2e", "#a0306e"];

interface Box {
  machine: TopoMachine;
  x: number;
  y: number;
  w: number;
  h: number;
  lines: { text: string; bold?: boolean }[];
}

export function renderSvg(t: Topology): string {
  // The cluster's line (corosync links, Ceph networks) above the buses.
  const top = MARGIN + (t.cluster ? LINE_H + 6 : 0);
  const busY = new Map(t.networks.map((n, i) => [n.name, top + 30 + i * BUS_GAP]));
  const color = new Map(t.networks.map((n, i) => [n.name, COLORS[i % COLORS.length]]));
  const lastBus = top + 30 + (t.networks.length - 1) * BUS_GAP;
  const boxTop = t.networks.length > 0 ? lastBus + DROP_ROOM : top;

  const boxes: Box[] = [];
  let x = MARGIN;
  for (const m of t.machines) {
    const lines = [{ text: machineTitle(m), bold: true }, ...m.details.map((text) => ({ text })), ...m.interfaces.map((i) => ({ text: interfaceLine(i) }))];
    const w = Math.max(180, Math.ceil(Math.max(...lines.map((l) => l.text.length)) * CHAR_W) + 20);
    const h = lines.length * LINE_H + 14;
    boxes.push({ machine: m, x, y: boxTop, w, h, lines });
    x += w + BOX_GAP;
  }
  const byName = new Map(boxes.map((b) => [b.machine.name, b]));
  const boxesBottom = boxTop + Math.max(0, ...boxes.map((b) => b.h));

  const body: string[] = [];
  // Drops first, so boxes and buses are drawn over their ends.
  for (const b of boxes) {
    b.machine.interfaces
      .filter((i) => i.network && busY.has(i.network))
      .forEach((i, k) => {
        const dx = b.x + 14 + k * DROP_STEP;
        const y = busY.get(i.network!)!;
        body.push(`<line x1="${dx}" y1="${y}" x2="${dx}" y2="${b.y}" stroke="${color.get(i.network!)}" stroke-width="2"/>`);
        body.push(`<circle cx="${dx}" cy="${y}" r="4" fill="${color.get(i.network!)}"/>`);
        const tag = `${i.name} ${i.address ?? ""}`.trim();
        body.push(`<text x="${dx - 3}" y="${b.y - 6}" transform="rotate(-90 ${dx - 3} ${b.y - 6})" font-size="10">${esc(tag)}</text>`);
      });
  }

  if (t.cluster) body.push(`<text x="${MARGIN}" y="${MARGIN + 12}" font-weight="bold" fill="#b3462f">${esc(clusterText(t.cluster).join(" · "))}</text>`);
  const width = Math.max(x - BOX_GAP + MARGIN, ...t.networks.map((n) => Math.ceil(networkText(n).join(" · ").length * CHAR_W) + 2 * MARGIN), 400);
  t.networks.forEach((n) => {
    const y = busY.get(n.name)!;
    body.push(`<line x1="${MARGIN}" y1="${y}" x2="${width - MARGIN}" y2="${y}" stroke="${color.get(n.name)}" stroke-width="5"/>`);
    body.push(`<text x="${MARGIN}" y="${y - 8}" font-weight="bold">${esc(networkText(n).join(" · "))}</text>`);
  });

  for (const b of boxes) {
    const dash = b.machine.kind === "vm" ? ` stroke-dasharray="5 3"` : "";
    body.push(`<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6" fill="#ffffff" stroke="#444444"${dash}/>`);
    b.lines.forEach((l, i) => {
      const weight = l.bold ? ` font-weight="bold"` : "";
      body.push(`<text x="${b.x + 10}" y="${b.y + 20 + i * LINE_H}"${weight}>${esc(l.text)}</text>`);
    });
  }

  // Thunderbolt cables: arcs under the boxes, deeper the further apart their ends are.
  let y = boxesBottom + 20;
  const index = new Map(boxes.map((b, i) => [b.machine.name, i]));
  let deepest = y;
  t.ring.forEach((link, n) => {
    const a = byName.get(link.a.node);
    const b = byName.get(link.b.node);
    if (!a || !b) return;
    const span = Math.abs(index.get(link.a.node)! - index.get(link.b.node)!);
    const xa = a.x + a.w / 2 + 20 - n * 6;
    const xb = b.x + b.w / 2 - 20 + n * 6;
    const depth = boxesBottom + 30 + span * 30;
    deepest = Math.max(deepest, depth);
    // A quadratic curve's lowest point is halfway between its ends' midpoint and its control point.
    const control = 2 * depth - (a.y + a.h + b.y + b.h) / 2;
    body.push(`<path d="M ${xa} ${a.y + a.h} Q ${(xa + xb) / 2} ${control} ${xb} ${b.y + b.h}" fill="none" stroke="#c77700" stroke-width="3"/>`);
    body.push(
      `<text x="${(xa + xb) / 2}" y="${depth + 14}" text-anchor="middle" font-size="11">${esc(`${link.a.node} ${link.a.port} ↔ ${link.b.node} ${link.b.port}`)}</text>`,
    );
  });
  if (t.ring.length > 0) {
    body.push(`<text x="${MARGIN}" y="${deepest + 28}" font-size="11">${esc(`Thunderbolt ring: ${t.ring.length} cables${t.ringMtu ? `, MTU ${t.ringMtu}` : ""}`)}</text>`);
    y = deepest + 50;
  }

  // Kubernetes clusters, each centred under its members and wired to their boxes (drawn under the boxes).
  const wires: string[] = [];
  let kx = MARGIN;
  let bottom = y;
  for (const k of t.kubernetes) {
    const lines = [`${k.kind} ${k.name} ${k.version}`, ...k.members.map((m) => `${m.role} ${m.machine}`)];
    const w = Math.max(200, Math.ceil(Math.max(...lines.map((l) => l.length)) * CHAR_W) + 20);
    const members = k.members.map((m) => byName.get(m.machine)).filter((b): b is Box => b !== undefined);
    const centre = members.length > 0 ? members.reduce((sum, b) => sum + b.x + b.w / 2, 0) / members.length : kx + w / 2;
    const cx = Math.max(kx, Math.round(centre - w / 2));
    const ky = y + 40;
    for (const b of members) {
      wires.push(`<line x1="${b.x + b.w / 2}" y1="${b.y + b.h}" x2="${cx + w / 2}" y2="${ky}" stroke="#2e8b3e" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    }
    const h = lines.length * LINE_H + 14;
    body.push(`<rect x="${cx}" y="${ky}" width="${w}" height="${h}" rx="10" fill="#eaf7ea" stroke="#2e8b3e"/>`);
    lines.forEach((l, i) => body.push(`<text x="${cx + 10}" y="${ky + 20 + i * LINE_H}"${i === 0 ? ` font-weight="bold"` : ""}>${esc(l)}</text>`));
    kx = cx + w + BOX_GAP;
    bottom = Math.max(bottom, ky + h);
  }

  const height = Math.ceil(bottom + MARGIN);
  const w = Math.ceil(Math.max(width, kx - BOX_GAP + MARGIN));
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${height}" viewBox="0 0 ${w} ${height}" font-family="monospace" font-size="12">`,
    `<title>${esc(`homelab environment ${t.name}`)}</title>`,
    `<rect width="${w}" height="${height}" fill="#fafafa"/>`,
    ...wires,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

function interfaceLine(i: TopoInterface): string {
  // A VLAN's detail already names its device.
  const lower = i.lower.length > 0 && i.type !== "vlan" ? ` ← ${i.lower.join(",")}` : "";
  const on = i.network ? ` ${i.network}${i.address ? ` ${i.address}` : ""}` : "";
  return `${i.name}: ${i.detail}${lower} · MTU ${i.mtu}${on}`;
}

/** Text and attribute values escaped for XML. */
export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
