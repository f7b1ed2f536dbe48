/**
 * The homelab policy pack, served to the Pulumi engine:
 * `pulumi preview --policy-pack stacks/policy` (the operate command passes it
 * on every preview and up; see path.ts). The rules are in rules.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("homelab", { policies: POLICIES });
