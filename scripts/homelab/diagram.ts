/**
 * `renderDiagram(stack)`: an environment's topology drawn from its stack file
 * alone (validated with the schema; no Pulumi, no SSH), as Mermaid for
 * GitHub and as an SVG of our own layout.
 */
import { REPO_ROOT, validateStackFile } from "../../stacks/stack-file";
import { renderMermaid } from "./diagram-mermaid";
import { renderSvg } from "./diagram-svg";
import { topology } from "./topology";

export interface Diagram {
  mermaid: string;
  svg: string;
}

/** Draw the stack (a name, or a path to a stack file); throws with every validation issue. */
export function renderDiagram(stack: string, root = REPO_ROOT, cwd = process.cwd()): Diagram {
  // No config reader: the topology never sits in a Pulumi ESC environment, only secrets do.
  const result = validateStackFile(stack, root, cwd, {});
  if (!result.environment) throw new Error(`${result.file}: not a valid stack file:\n${result.issues.join("\n")}`);
  const t = topology(result.environment);
  return { mermaid: renderMermaid(t), svg: renderSvg(t) };
}
