/**
 * STUB of the KubernetesNodesReady resource (the real provider replaces this
 * file): only the exported names and types, so the composition compiles.
 */
import * as pulumi from "@pulumi/pulumi";

const notImplemented: pulumi.dynamic.ResourceProvider = {
  async create() {
    throw new Error("talos:NodesReady: not implemented");
  },
};

export class KubernetesNodesReady extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { kubeconfig: pulumi.Input<string>; nodes: pulumi.Input<string[]>; timeoutMs?: pulumi.Input<number> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(notImplemented, name, { ...args, kubeconfig: pulumi.secret(args.kubeconfig) }, { ...opts, additionalSecretOutputs: ["kubeconfig"] }, "talos", "NodesReady");
  }
}
