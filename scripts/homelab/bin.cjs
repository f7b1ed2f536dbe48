#!/usr/bin/env node
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS launcher: Node runs it without a TypeScript loader */
/* global require */
// The `homelab` bin: the TypeScript entry run through tsx (resolved from this file, so it works from any folder), as `npm run homelab` does.
require("tsx/cjs");
require("./cli.ts").runFromProcess();
