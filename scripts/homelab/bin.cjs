#!/usr/bin/env node
// The `homelab` bin: the TypeScript entry run through tsx, as `npm run homelab` does.
require("tsx/cjs");
require("./cli.ts").runFromProcess();
