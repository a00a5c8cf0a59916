#!/usr/bin/env -S node --max-old-space-size=256 --max-semi-space-size=8 --interrupt-budget=8192 --no-allocation-site-pretenuring
import '../dist/cli/main.js';
