// The JSON-LD contexts credbank ships, by URL: the same table as
// credentials/loader.py CONTEXTS (test_interop.py checks that they agree). The
// files are read from the project, not from the npm packages' bundled copies, so
// the contexts credbank ships are the ones exercised. Shared by interop.mjs and
// bench/rdfc_issue.mjs.

import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const CONTEXT_DIR = join(
  dirname(fileURLToPath(import.meta.url)), '..', '..', 'credentials', 'contexts');

export const CONTEXTS = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/2018/credentials/v1': 'credentials-v1.jsonld',
  'https://www.w3.org/ns/credentials/undefined-terms/v2':
    'credentials-undefined-terms-v2.jsonld',
  'https://www.w3.org/ns/credentials/examples/v2':
    'credentials-examples-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json':
    'ob-v3p0-context-3.0.3.json',
  'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json':
    'clr-v2p0-context-2.0.1.json',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://www.w3.org/ns/credentials/status/v1':
    'vc-bitstring-status-list-v1.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
};
