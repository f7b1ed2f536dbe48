/**
 * Pulumi entry point (Pulumi.yaml `main:`). Loads under the CLI (`pulumi up`)
 * and under the Automation API (LocalWorkspace on this folder) alike.
 */
import { runProgram } from "./program";

const outputs = runProgram();

export const nodes = outputs.nodes;
