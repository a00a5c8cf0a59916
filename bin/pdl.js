#!/usr/bin/env -S node --max-old-space-size=256 --max-semi-space-size=8
import '../dist/cli/main.js';
