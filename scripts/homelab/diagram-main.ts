/**
 * `npm run diagram -- <stack> [--svg <file>] [--markdown]`
 *
 * Prints the environment's Mermaid diagram (with --markdown, inside a
 * ```mermaid block, as a pull request comment or a README shows it) and
 * writes the SVG to --svg. Exit 1 for an invalid stack file, 2 on wrong usage.
 */
import * as fs from "node:fs";
import { renderDiagram } from "./diagram";

export const DIAGRAM_USAGE = "usage: npm run diagram -- <stack> [--svg <file>] [--markdown]";

export function parseDiagramArgs(argv: string[]): { stack: string; svg?: string; markdown: boolean } | undefined {
  const rest = [...argv];
  const markdown = rest.includes("--markdown");
  if (markdown) rest.splice(rest.indexOf("--markdown"), 1);
  let svg: string | undefined;
  const at = rest.indexOf("--svg");
  if (at >= 0) {
    svg = rest[at + 1];
    if (!svg || svg.startsWith("-")) return undefined;
    rest.splice(at, 2);
  }
  if (rest.length !== 1 || rest[0].startsWith("-")) return undefined;
  return { stack: rest[0], svg, markdown };
}

export function main(argv: string[], out: (text: string) => void, err: (line: string) => void): number {
  const args = parseDiagramArgs(argv);
  if (!args) {
    err(DIAGRAM_USAGE);
    return 2;
  }
  try {
    const diagram = renderDiagram(args.stack);
    if (args.svg) fs.writeFileSync(args.svg, diagram.svg);
    out(args.markdown ? "```mermaid\n" + diagram.mermaid + "```\n" : diagram.mermaid);
    return 0;
  } catch (e) {
    err(`diagram ${args.stack}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(
    process.argv.slice(2),
    (text) => process.stdout.write(text),
    (line) => console.error(line),
  );
}
