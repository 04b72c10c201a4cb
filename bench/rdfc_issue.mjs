#!/usr/bin/env node
// The baseline of `python -m bench.rdfc`: Digital Bazaar's `vc.issue` with
// DataIntegrityProof and eddsa-rdfc-2022, timed in a loop on one credential.
//
//   node bench/rdfc_issue.mjs REQUEST.json
//
// REQUEST: {credential, created, seconds, keyPair: {id, controller,
// publicKeyMultibase, secretKeyMultibase}}. The libraries are the ones
// tests/interop installs (ESM ignores NODE_PATH, so they are resolved from that
// folder and imported by file URL). Contexts come from credentials/contexts/ by
// URL, as in tests/interop/interop.mjs; anything else is refused, so nothing is
// fetched. Prints one JSON object: the number of credentials issued, the seconds
// they took, and the first one issued (for the caller to compare with its own).

import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

import {CONTEXT_DIR, CONTEXTS} from '../tests/interop/contexts.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const INTEROP = join(ROOT, 'tests', 'interop');


const requireFromInterop = createRequire(join(INTEROP, 'package.json'));

async function load(name) {
  return import(pathToFileURL(requireFromInterop.resolve(name)).href);
}

async function main(argv) {
  if(argv.length !== 1) {
    throw new Error(`expected one request file, got ${argv.length} arguments`);
  }
  const {credential, created, seconds, keyPair} =
    JSON.parse(readFileSync(argv[0], 'utf8'));

  const vc = await load('@digitalbazaar/vc');
  const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
  const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
  const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');

  // Parsed once, as credbank's loader caches the file text: the libraries may
  // keep their own cache of processed contexts too, which is their due.
  const parsed = {};
  for(const [url, file] of Object.entries(CONTEXTS)) {
    parsed[url] = readFileSync(join(CONTEXT_DIR, file), 'utf8');
  }
  const documentLoader = async url => {
    if(!Object.hasOwn(parsed, url)) {
      throw new Error(`refusing to load ${url}: not shipped`);
    }
    return {contextUrl: null, documentUrl: url, document: JSON.parse(parsed[url])};
  };

  const key = await Ed25519Multikey.from({
    type: 'Multikey',
    '@context': 'https://w3id.org/security/multikey/v1',
    ...keyPair,
  });
  const issueOne = async () => vc.issue({
    credential: structuredClone(credential),
    suite: new DataIntegrityProof({
      signer: key.signer(), cryptosuite, date: created,
    }),
    documentLoader,
  });

  // Warm up (JIT, context caches), then count whole issues in the time given.
  const first = await issueOne();
  for(let index = 0; index < 50; index++) {
    await issueOne();
  }
  let count = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while(now < deadline) {
    await issueOne();
    count++;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - started) / 1e9;
  return {count, seconds: elapsed, rate: count / elapsed, first};
}

main(process.argv.slice(2)).then(result => {
  process.stdout.write(JSON.stringify(result) + '\n');
}).catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(2);
});
