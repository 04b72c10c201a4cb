#!/usr/bin/env node
// Interoperability harness: credbank's credentials against Digital Bazaar's VC
// libraries and `jose`, with no network at all.
//
//   node interop.mjs contexts
//   node interop.mjs verify-di FILE --fixtures FIXTURES [--now ISO]
//   node interop.mjs verify-jwt FILE --fixtures FIXTURES [--now ISO]
//   node interop.mjs issue-di FILE
//   node interop.mjs issue-jwt FILE
//   node interop.mjs expand FILE
//
// FILE may be `-` for standard input. FIXTURES is a JSON object mapping a URL (a
// DID, a status list URL...) to the document served there. Each run prints one
// JSON object on standard output. A verification (or expansion) exits 0 when it
// held, 1 when it did not; 2 means the harness itself could not run (usage, bad
// input, a library refusing to issue), with the reason on standard error.

import {readFileSync} from 'node:fs';
import {join} from 'node:path';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {
  cryptosuite as eddsaRdfc2022,
} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {
  createSignCryptosuite as eddsaJcs2022Sign,
  createVerifyCryptosuite as eddsaJcs2022Verify,
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import jsonld from 'jsonld';
import {
  SignJWT, decodeProtectedHeader, importJWK, jwtVerify,
} from 'jose';

import {CONTEXT_DIR, CONTEXTS} from './contexts.mjs';



const SUITES = {
  'eddsa-rdfc-2022': {
    sign: () => eddsaRdfc2022,
    verify: () => eddsaRdfc2022,
  },
  'eddsa-jcs-2022': {
    sign: () => eddsaJcs2022Sign(),
    verify: () => eddsaJcs2022Verify(),
  },
};

// The algorithm comes from the key, never from the token (RFC 8037 §3.1,
// RFC 7518 §3.4).
const JOSE_ALGORITHMS = {'OKP:Ed25519': 'EdDSA', 'EC:P-256': 'ES256'};

class UsageError extends Error {}

async function main(argv) {
  const [command, ...rest] = argv;
  const {positional, options} = parseArguments(rest);
  switch(command) {
    case 'contexts':
      return {result: CONTEXTS, ok: true};
    case 'verify-di':
      return verifyDataIntegrity(
        readJson(single(positional)), loadFixtures(options), options.now);
    case 'verify-jwt':
      return verifyJwt(
        readText(single(positional)).trim(), loadFixtures(options),
        options.now);
    case 'issue-di':
      return issueDataIntegrity(readJson(single(positional)));
    case 'issue-jwt':
      return issueJwt(readJson(single(positional)));
    case 'expand':
      return expand(readJson(single(positional)));
    default:
      throw new UsageError(
        `expected a command (contexts, verify-di, verify-jwt, issue-di, ` +
        `issue-jwt, expand), got ${JSON.stringify(command)}`);
  }
}

// Data Integrity: @digitalbazaar/vc verifyCredential with both EdDSA suites, the
// issuance purpose (the key must be an assertionMethod of the issuer), and the
// Bitstring Status List check, whose list credentials are verified as well.
async function verifyDataIntegrity(credential, fixtures, now) {
  const documentLoader = localDocumentLoader(fixtures);
  const result = await vc.verifyCredential({
    credential,
    suite: verifySuites(),
    documentLoader,
    checkStatus,
    ...(now ? {now} : {}),
  });
  const report = {
    verified: result.verified === true,
    cryptosuite: credential?.proof?.cryptosuite ?? null,
    errors: verificationErrors(result),
    ...statusReport(result.statusResult),
  };
  return {result: report, ok: report.verified};
}

// vc+jwt (VC-JOSE-COSE §3.1.1): the key that `kid` names, which must be an
// assertionMethod of its controller, fixes the one algorithm jwtVerify allows.
async function verifyJwt(token, fixtures, now) {
  const report = {
    verified: false, errors: [], header: null, credential: null,
    statusResult: null, revoked: null, suspended: null,
  };
  try {
    const header = decodeProtectedHeader(token);
    report.header = header;
    const method = await resolveMethod(fixtures, header.kid);
    const jwk = method.publicKeyJwk ?? await multikeyJwk(method);
    const algorithm = JOSE_ALGORITHMS[`${jwk.kty}:${jwk.crv}`];
    if(!algorithm) {
      throw new Error(
        `expected an Ed25519 or P-256 key, got ${jwk.kty} ${jwk.crv}`);
    }
    const key = await importJWK(jwk, algorithm);
    const {payload} = await jwtVerify(token, key, {
      algorithms: [algorithm],
      typ: 'vc+jwt',
      ...(now ? {currentDate: new Date(now)} : {}),
    });
    if(header.cty !== undefined && header.cty !== 'vc' &&
      header.cty !== 'application/vc') {
      throw new Error(`expected cty "vc", got ${JSON.stringify(header.cty)}`);
    }
    for(const claim of ['vc', 'vp']) {
      if(claim in payload) {
        throw new Error(`expected no "${claim}" claim in a vc+jwt`);
      }
    }
    const issuer = typeof payload.issuer === 'object' ?
      payload.issuer?.id : payload.issuer;
    if(issuer !== method.controller) {
      throw new Error(
        `expected the key's controller ${method.controller} to be the ` +
        `issuer, got ${issuer}`);
    }
    // The payload is a credential: the same well-formedness and validity-period
    // checks that verifyCredential applies to a Data Integrity credential.
    vc._checkCredential({credential: payload, ...(now ? {now} : {})});
    report.credential = payload;

    if(payload.credentialStatus) {
      const statusResult = await checkStatus({
        credential: payload,
        documentLoader: localDocumentLoader(fixtures),
        suite: verifySuites(),
      });
      Object.assign(report, statusReport(statusResult));
      if(!statusResult.verified) {
        report.errors.push(...errorMessages(statusResult.error));
        return {result: report, ok: false};
      }
    }
    report.verified = true;
  } catch(error) {
    report.errors.push(...errorMessages(error));
  }
  return {result: report, ok: report.verified};
}

// issue-di: {credential, cryptosuite, created, keyPair: {id, controller,
// publicKeyMultibase, secretKeyMultibase}} -> the secured credential.
async function issueDataIntegrity(request) {
  const {credential, cryptosuite, created, keyPair} = request;
  const suite = SUITES[cryptosuite];
  if(!suite) {
    throw new UsageError(
      `expected cryptosuite ${Object.keys(SUITES).join(' or ')}, ` +
      `got ${JSON.stringify(cryptosuite)}`);
  }
  const key = await Ed25519Multikey.from({
    type: 'Multikey',
    '@context': 'https://w3id.org/security/multikey/v1',
    ...keyPair,
  });
  const proof = new DataIntegrityProof({
    signer: key.signer(),
    cryptosuite: suite.sign(),
    ...(created ? {date: created} : {}),
  });
  const secured = await vc.issue({
    credential: structuredClone(credential),
    suite: proof,
    documentLoader: localDocumentLoader({}),
  });
  return {result: secured, ok: true};
}

// issue-jwt: {credential, privateJwk, kid} -> {jwt}. The algorithm follows the
// key: EdDSA for Ed25519, ES256 for P-256.
async function issueJwt(request) {
  const {credential, privateJwk, kid} = request;
  const algorithm = JOSE_ALGORITHMS[`${privateJwk?.kty}:${privateJwk?.crv}`];
  if(!algorithm) {
    throw new UsageError('expected an Ed25519 or P-256 private JWK');
  }
  const key = await importJWK(privateJwk, algorithm);
  const jwt = await new SignJWT(credential)
    .setProtectedHeader({alg: algorithm, typ: 'vc+jwt', cty: 'vc', kid})
    .sign(key);
  return {result: {jwt, alg: algorithm}, ok: true};
}

// expand: JSON-LD expansion in safe mode, which refuses to drop any term that
// the document's contexts do not define (as the Data Integrity suites do).
async function expand(document) {
  try {
    await jsonld.expand(document, {
      documentLoader: localDocumentLoader({}),
      safe: true,
    });
    return {result: {expanded: true, errors: []}, ok: true};
  } catch(error) {
    const errors = errorMessages(error);
    const event = error.details?.event;
    if(event) {
      errors.push(`${event.code}: ${JSON.stringify(event.details)}`);
    }
    return {result: {expanded: false, errors}, ok: false};
  }
}

function verifySuites() {
  return Object.values(SUITES).map(
    suite => new DataIntegrityProof({cryptosuite: suite.verify()}));
}

// The document loader: shipped contexts by URL, then the fixtures (DID documents,
// status list credentials), then a DID URL's verification method inside its DID
// document (what a did:web resolver would return). Anything else is refused.
function localDocumentLoader(fixtures) {
  return async url => {
    const file = CONTEXTS[url];
    if(file) {
      return remote(url, JSON.parse(readFileSync(join(CONTEXT_DIR, file))));
    }
    if(Object.hasOwn(fixtures, url)) {
      return remote(url, structuredClone(fixtures[url]));
    }
    const hash = url.indexOf('#');
    if(hash > 0 && Object.hasOwn(fixtures, url.slice(0, hash))) {
      const controller = fixtures[url.slice(0, hash)];
      const method = (controller.verificationMethod ?? []).find(
        candidate => candidate.id === url);
      if(method) {
        return remote(url, {'@context': controller['@context'], ...method});
      }
    }
    throw new Error(`refusing to load ${url}: not shipped and not a fixture`);
  };
}

function remote(url, document) {
  return {contextUrl: null, documentUrl: url, document};
}

async function resolveMethod(fixtures, kid) {
  if(typeof kid !== 'string' || !kid.includes('#')) {
    throw new Error(`expected kid as a DID URL, got ${JSON.stringify(kid)}`);
  }
  const {document: method} = await localDocumentLoader(fixtures)(kid);
  const {document: controller} =
    await localDocumentLoader(fixtures)(method.controller);
  // DID Core §5.3.2: only an assertionMethod may secure a credential.
  const allowed = (controller.assertionMethod ?? []).map(
    entry => typeof entry === 'string' ? entry : entry.id);
  if(!allowed.includes(kid)) {
    throw new Error(`expected ${kid} to be an assertionMethod of its controller`);
  }
  return method;
}

async function multikeyJwk(method) {
  const key = await Ed25519Multikey.from(method);
  return Ed25519Multikey.toJwk({keyPair: key});
}

function statusReport(statusResult) {
  if(!statusResult) {
    return {statusResult: null, revoked: null, suspended: null};
  }
  const results = (statusResult.results ?? []).map(entry => ({
    statusPurpose: entry.credentialStatus?.statusPurpose,
    statusListCredential: entry.credentialStatus?.statusListCredential,
    statusListIndex: entry.credentialStatus?.statusListIndex,
    verified: entry.verified,
    status: entry.status,
  }));
  const flag = purpose => {
    const found = results.filter(entry => entry.statusPurpose === purpose);
    return found.length ? found.some(entry => entry.status === true) : null;
  };
  return {
    statusResult: {
      verified: statusResult.verified === true,
      results,
      errors: errorMessages(statusResult.error),
    },
    revoked: flag('revocation'),
    suspended: flag('suspension'),
  };
}

function verificationErrors(result) {
  const errors = errorMessages(result.error);
  for(const entry of result.results ?? []) {
    errors.push(...errorMessages(entry.error));
  }
  if(result.statusResult && !result.statusResult.verified) {
    errors.push(...errorMessages(result.statusResult.error));
  }
  return [...new Set(errors)];
}

// Every message in an error, its aggregated `errors` and its `cause` chain.
function errorMessages(error, seen = new Set()) {
  if(!error || seen.has(error)) {
    return [];
  }
  seen.add(error);
  const messages = [];
  if(error.message) {
    messages.push(`${error.name ?? 'Error'}: ${error.message}`);
  }
  for(const inner of Array.isArray(error.errors) ? error.errors : []) {
    messages.push(...errorMessages(inner, seen));
  }
  messages.push(...errorMessages(error.cause, seen));
  // jsonld keeps the loader's own error in `details.cause`.
  messages.push(...errorMessages(error.details?.cause, seen));
  return messages;
}

function parseArguments(args) {
  const positional = [];
  const options = {};
  for(let index = 0; index < args.length; index++) {
    const arg = args[index];
    if(arg.startsWith('--')) {
      const value = args[++index];
      if(value === undefined) {
        throw new UsageError(`expected a value after ${arg}`);
      }
      options[arg.slice(2)] = value;
    } else {
      positional.push(arg);
    }
  }
  return {positional, options};
}

function single(positional) {
  if(positional.length !== 1) {
    throw new UsageError(
      `expected one input file (or -), got ${positional.length}`);
  }
  return positional[0];
}

function loadFixtures(options) {
  return options.fixtures ? readJson(options.fixtures) : {};
}

function readText(path) {
  return readFileSync(path === '-' ? 0 : path, 'utf8');
}

function readJson(path) {
  try {
    return JSON.parse(readText(path));
  } catch(error) {
    throw new UsageError(`expected JSON in ${path}: ${error.message}`);
  }
}

try {
  const {result, ok} = await main(process.argv.slice(2));
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exitCode = ok ? 0 : 1;
} catch(error) {
  process.stderr.write(
    JSON.stringify({error: errorMessages(error)}) + '\n');
  process.exitCode = 2;
}
