#!/usr/bin/env -S node --max-old-space-size=256
import '../dist/cli/main.js';
