import * as pulumi from "@pulumi/pulumi";

/** Type token of the environment marker. */
export const ENVIRONMENT_MARKER_TYPE = "homelab:stack:Environment";

export interface EnvironmentMarkerArgs {
  /** The environment's name (the stack file's `name`). */
  name: string;
  /** Whether the environment is production (no destroy switches; see stacks/policy). */
  production: boolean;
}

/**
 * What a policy pack needs to know about the whole environment, as a resource
 * it can see: its name and whether it is production. It has no children and
 * changes nothing; the policy pack reads it by its type token, so any program
 * that builds an environment from our components can mark itself the same way.
 */
export class EnvironmentMarker extends pulumi.ComponentResource {
  readonly production: boolean;

  constructor(name: string, args: EnvironmentMarkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ENVIRONMENT_MARKER_TYPE, name, { ...args }, opts);
    this.production = args.production;
    // Outputs too: a stack policy reads a resource's outputs.
    this.registerOutputs({ name: args.name, production: args.production });
  }
}
