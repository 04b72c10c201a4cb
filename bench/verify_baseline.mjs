#!/usr/bin/env node
// The baseline of `python -m bench.verify`: Digital Bazaar's `verifyCredential`
// (DataIntegrityProof, eddsa-rdfc-2022) on the credentials the benchmark issued,
// and, for reference, jose's `jwtVerify` on their vc+jwt forms. One process, one
// verification at a time, each mode for a fixed time.
//
//   node bench/verify_baseline.mjs REQUEST.json
//
// REQUEST: {seconds, credentials: [secured credential...], tokens: [jwt...],
// documents: {url: document}} where the documents are the issuer's DID document
// and the status list credentials, read from the running service beforehand.
// Contexts come from credentials/contexts/ (tests/interop/contexts.mjs); any other
// URL is refused, so nothing is fetched. Every credential is verified once first,
// and the script fails if one does not verify. Prints one JSON object: per mode,
// the verifications done, the seconds they took and their rate.
//
// Modes: `di` checks the proof, the issuance purpose and the data model, with a
// `checkStatus` that accepts anything (status is not read); `di-status` adds
// @digitalbazaar/vc-bitstring-status-list's checkStatus, which verifies each
// status list credential's proof as well; `jwt` is jwtVerify with the key
// imported once.

import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

import {CONTEXT_DIR, CONTEXTS} from '../tests/interop/contexts.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const INTEROP = join(HERE, '..', 'tests', 'interop');
const WARM_UP = 30;

const requireFromInterop = createRequire(join(INTEROP, 'package.json'));

async function load(name) {
  return import(pathToFileURL(requireFromInterop.resolve(name)).href);
}

async function main(argv) {
  if(argv.length !== 1) {
    throw new Error(`expected one request file, got ${argv.length} arguments`);
  }
  const {seconds, credentials, tokens, documents} =
    JSON.parse(readFileSync(argv[0], 'utf8'));

  const vc = await load('@digitalbazaar/vc');
  const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
  const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const statusList = await load('@digitalbazaar/vc-bitstring-status-list');
  const jose = await load('jose');

  const documentLoader = memoryLoader(documents);
  const suite = new DataIntegrityProof({cryptosuite});
  const acceptStatus = async () => ({verified: true});
  const verifiers = {
    di: credential => vc.verifyCredential({
      credential, suite, documentLoader, checkStatus: acceptStatus,
    }),
    'di-status': credential => vc.verifyCredential({
      credential, suite, documentLoader, checkStatus: statusList.checkStatus,
    }),
  };

  const results = {};
  for(const [mode, verify] of Object.entries(verifiers)) {
    await verifyEach(mode, credentials, verify);
    results[mode] = await timeLoop(credentials, verify, seconds);
  }
  const jwtVerifier = await joseVerifier(jose, tokens, documentLoader);
  await verifyEach('jwt', tokens, jwtVerifier);
  results.jwt = await timeLoop(tokens, jwtVerifier, seconds);
  return {node: process.version, results};
}

// The shipped contexts by URL; the documents given by URL; a DID URL's
// verification method inside its DID document. Contexts are parsed once.
function memoryLoader(documents) {
  const known = {};
  for(const [url, file] of Object.entries(CONTEXTS)) {
    known[url] = JSON.parse(readFileSync(join(CONTEXT_DIR, file), 'utf8'));
  }
  for(const [url, document] of Object.entries(documents)) {
    known[url] = document;
    for(const method of document.verificationMethod ?? []) {
      known[method.id] = {'@context': document['@context'], ...method};
    }
  }
  return async url => {
    if(!Object.hasOwn(known, url)) {
      throw new Error(`refusing to load ${url}: not given`);
    }
    return {contextUrl: null, documentUrl: url, document: known[url]};
  };
}

async function joseVerifier(jose, tokens, documentLoader) {
  const keys = new Map();
  return async token => {
    const {kid} = jose.decodeProtectedHeader(token);
    if(!keys.has(kid)) {
      const {document: method} = await documentLoader(kid);
      keys.set(kid, await jose.importJWK(method.publicKeyJwk, 'EdDSA'));
    }
    await jose.jwtVerify(token, keys.get(kid), {
      algorithms: ['EdDSA'], typ: 'vc+jwt',
    });
    return {verified: true};
  };
}

async function verifyEach(mode, items, verify) {
  for(const [index, item] of items.entries()) {
    const result = await verify(item);
    if(result.verified !== true) {
      const error = result.error ?? result.results?.[0]?.error;
      throw new Error(
        `${mode}: item ${index} did not verify: ${error?.message ?? 'no reason'}`,
        {cause: error});
    }
  }
}

// Warm up (JIT, the libraries' caches), then count whole verifications, going
// round the items, until the time is up.
async function timeLoop(items, verify, seconds) {
  for(let index = 0; index < WARM_UP; index++) {
    await verify(items[index % items.length]);
  }
  let count = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while(now < deadline) {
    await verify(items[count % items.length]);
    count++;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - started) / 1e9;
  return {count, seconds: elapsed, rate: count / elapsed};
}

main(process.argv.slice(2)).then(result => {
  process.stdout.write(JSON.stringify(result) + '\n');
}).catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  if(error.cause) {
    process.stderr.write(`cause: ${error.cause.stack ?? error.cause}\n`);
  }
  process.exit(2);
});
