/**
 * The policy pack as the Pulumi CLI runs it: `run-policy-pack` (the Node.js
 * policy host from @pulumi/pulumi, with ts-node) started in the pack's
 * folder, which serves the analyzer gRPC protocol and prints its port; the
 * engine's calls (GetAnalyzerInfo, Analyze, AnalyzeStack) made here with the
 * protocol's own messages. No Pulumi CLI needed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

// The gRPC and protobuf runtime @pulumi/pulumi itself uses (not dependencies of ours), and its generated
// analyzer protocol (no typings worth having here): loaded with require on purpose.
/* eslint-disable @typescript-eslint/no-require-imports */
const fromPulumi = (id: string) => require(require.resolve(id, { paths: [path.dirname(require.resolve("@pulumi/pulumi"))] }));
/* eslint-disable @typescript-eslint/no-explicit-any */
const grpc = fromPulumi("@grpc/grpc-js") as any;
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb") as any;
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb") as any;
const analyzer = require("@pulumi/pulumi/proto/analyzer_pb") as any;
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb") as any;
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */

export interface AnalyzedResource {
  type: string;
  name: string;
  /** Properties as the engine serializes them (secrets as `{ [SECRET_SIG]: ..., value }`). */
  properties: Record<string, unknown>;
  additionalSecretOutputs?: string[];
}

export interface PolicyAnalyzer {
  policies(): Promise<string[]>;
  /** `<policy name>: <violation>` per diagnostic. */
  analyze(r: AnalyzedResource): Promise<string[]>;
  analyzeStack(resources: AnalyzedResource[]): Promise<string[]>;
  stop(): void;
}

export function startPolicyAnalyzer(packDir: string): Promise<PolicyAnalyzer> {
  const host = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
  // The engine address is only used to log through; the calls below need none.
  const child: ChildProcess = spawn(process.execPath, [host, "127.0.0.1:1", "."], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the policy pack exited (${code}) before serving:\n${stderr}`)));
    child.stdout!.once("data", (d) => {
      const port = String(d).trim();
      const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const call = <T>(method: string, request: unknown): Promise<T> =>
        new Promise((ok, fail) => client[method](request, (err: Error | null, resp: T) => (err ? fail(err) : ok(resp))));
      const diagnostics = (resp: { getDiagnosticsList(): { getPolicyname(): string; getMessage(): string }[] }) =>
        resp.getDiagnosticsList().map((x) => `${x.getPolicyname()}: ${x.getMessage().split("\n").slice(1).join("\n")}`);
      const options = (r: AnalyzedResource) => new analyzer.AnalyzerResourceOptions().setAdditionalsecretoutputsList(r.additionalSecretOutputs ?? []);
      const urn = (r: AnalyzedResource) => `urn:pulumi:test::homelab::${r.type}::${r.name}`;
      resolve({
        policies: async () =>
          (await call<{ getPoliciesList(): { getName(): string }[] }>("getAnalyzerInfo", new Empty())).getPoliciesList().map((p) => p.getName()),
        analyze: async (r) => {
          const req = new analyzer.AnalyzeRequest()
            .setType(r.type)
            .setName(r.name)
            .setUrn(urn(r))
            .setProperties(Struct.fromJavaScript(r.properties))
            .setOptions(options(r));
          return diagnostics(await call("analyze", req));
        },
        analyzeStack: async (resources) => {
          const list = resources.map((r) =>
            new analyzer.AnalyzerResource().setType(r.type).setName(r.name).setUrn(urn(r)).setProperties(Struct.fromJavaScript(r.properties)).setOptions(options(r)),
          );
          return diagnostics(await call("analyzeStack", new analyzer.AnalyzeStackRequest().setResourcesList(list)));
        },
        stop: () => {
          child.removeAllListeners("exit");
          client.close();
          child.kill();
        },
      });
    });
  });
}
