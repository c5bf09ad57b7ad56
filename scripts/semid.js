#!/usr/bin/env node
// The `semid` binary: runs the TypeScript CLI through tsx's loader, so the installed package needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
