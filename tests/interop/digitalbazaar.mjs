// Issue or verify a credential with Digital Bazaar's libraries, offline.
// usage: node digitalbazaar.mjs verify CONTEXTS_DIR CREDENTIAL.json
//        node digitalbazaar.mjs issue  CONTEXTS_DIR UNSIGNED.json   (prints the signed credential)
// The documentLoader serves only the contexts exported by `gateway contexts export`
// and resolves did:key locally; anything else is refused.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const [mode, contextsDir, input] = process.argv.slice(2);
const index = JSON.parse(readFileSync(`${contextsDir}/index.json`, 'utf8'));
const contexts = Object.fromEntries(Object.entries(index).map(
  ([url, file]) => [url, JSON.parse(readFileSync(`${contextsDir}/${file}`, 'utf8'))]));

async function documentLoader(url) {
  if(contexts[url]) {
    return {contextUrl: null, documentUrl: url, document: contexts[url]};
  }
  if(url.startsWith('did:key:')) {
    const [did] = url.split('#');
    const mb = did.slice('did:key:'.length);
    const key = await Ed25519Multikey.from({
      '@context': 'https://w3id.org/security/multikey/v1',
      type: 'Multikey', id: `${did}#${mb}`, controller: did, publicKeyMultibase: mb
    });
    const vm = await key.export({publicKey: true, includeContext: true});
    if(url.includes('#')) {
      return {contextUrl: null, documentUrl: url, document: vm};
    }
    const {'@context': _ignored, ...bare} = vm;
    const document = {
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
      id: did, verificationMethod: [bare],
      authentication: [vm.id], assertionMethod: [vm.id]
    };
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`documentLoader refused ${url}`);
}

const credential = JSON.parse(readFileSync(input, 'utf8'));
if(mode === 'verify') {
  const suite = new DataIntegrityProof({cryptosuite});
  const result = await vc.verifyCredential({credential, suite, documentLoader});
  const errors = [];
  if(result.error) {
    errors.push(String(result.error.message || result.error));
    for(const e of result.error.errors || []) {
      errors.push(String(e.message || e));
    }
  }
  console.log(JSON.stringify({verified: result.verified, errors}));
} else if(mode === 'issue') {
  const keyPair = await Ed25519Multikey.generate();
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  credential.issuer = did;
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite});
  const signed = await vc.issue({credential, suite, documentLoader});
  console.log(JSON.stringify(signed));
} else {
  throw new Error(`unknown mode ${mode}`);
}
