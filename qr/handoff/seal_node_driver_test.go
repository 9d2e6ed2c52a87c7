package handoff

// The JavaScript half of TestNodeSealChaCha20Poly1305 (seal_node_test.go):
// the driver that node runs against page/seal.mjs and the vendored
// @noble/ciphers it imports. It runs the RFC 8439 test vectors and the
// checks on Go's inputs inside node, and prints what the page's code
// produced for Go to check.

// sealNodeDriver is run by node as an ES module:
//
//	node driver.mjs page/seal.mjs page/vendor/noble-ciphers input.json
//
// The RFC 8439 vectors of the building blocks (block function, ChaCha20,
// Poly1305, key generation, AEAD open) run against the vendored modules
// themselves, which seal.mjs imports; sealing runs through seal.mjs's seal,
// the function the page uses. It prints one result per line:
//
//	PASS <name> / FAIL <name>: <detail>   checks done inside node
//	SEAL {"key","nonce","aad","pt","ct"}  (hex) sealed by JavaScript, for Go to open
//	INVITE {"i","body","code","bytes"}    sealInvitation of input.invites[i]
//	INVITE {"i","error"}                  ... or the reason it refused
//	CODE {"tag","code"}                   matchCode of input.tags
//	B64 {"hex","b64"}                     base64urlEncode of random bytes
//	DONE                                  the driver ran to its end
//
// It contains no backquotes, so that it fits in a Go raw string.
const sealNodeDriver = `import fs from 'node:fs';
import path from 'node:path';
import nodeCrypto from 'node:crypto';
import { pathToFileURL } from 'node:url';

const load = (file) => import(pathToFileURL(file).href);
const S = await load(process.argv[2]);
const noble = await load(path.join(process.argv[3], 'chacha.js'));
const { poly1305 } = await load(path.join(process.argv[3], '_poly1305.js'));
const input = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));

// The RFC's primitives, in the RFC's argument order, from the vendored
// library; seal is the page's own; open is the library's, null for a bad tag.
const C = Object.assign({}, S, {
  chacha20Block: (key, counter, nonce) => noble.chacha20(key, nonce, new Uint8Array(64), undefined, counter),
  chacha20: (key, counter, nonce, data) => noble.chacha20(key, nonce, data, undefined, counter),
  poly1305: (key, msg) => poly1305(msg, key),
  poly1305KeyGen: (key, nonce) => noble.chacha20(key, nonce, new Uint8Array(32), undefined, 0),
  open: (key, nonce, sealed, aad) => {
    let cipher;
    try {
      cipher = noble.chacha20poly1305(key, nonce, aad);
    } catch (e) {
      return 'bad arguments: ' + e.message;
    }
    try {
      return cipher.decrypt(sealed);
    } catch (e) {
      return null;
    }
  },
});

function hex(b) { return Buffer.from(b).toString('hex'); }
function unhex(s) { return new Uint8Array(Buffer.from(s.replace(/[^0-9a-fA-F]/g, ''), 'hex')); }
function utf8(s) { return new TextEncoder().encode(s); }
function rand(n) { return new Uint8Array(nodeCrypto.randomBytes(n)); }
function emit(kind, obj) { console.log(kind + ' ' + JSON.stringify(obj)); }

function check(name, fn, want) {
  let got;
  try {
    got = fn();
  } catch (e) {
    console.log('FAIL ' + name + ': threw ' + (e && e.stack || e));
    return;
  }
  const g = got instanceof Uint8Array ? hex(got) : String(got);
  const w = want instanceof Uint8Array ? hex(want) : String(want);
  if (g === w) console.log('PASS ' + name);
  else console.log('FAIL ' + name + ': got ' + g + ', want ' + w);
}

function checkThrows(name, fn) {
  try {
    const got = fn();
    console.log('FAIL ' + name + ': accepted, returned ' +
      (got instanceof Uint8Array ? hex(got) : JSON.stringify(got)));
  } catch (e) {
    console.log('PASS ' + name);
  }
}

// ---- RFC 8439 test vectors ------------------------------------------------

const SUNSCREEN = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
const JABBERWOCKY = "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.";
const IETF = 'Any submission to the IETF intended by the Contributor for publication as all or part of an IETF Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an "IETF Contribution". Such statements include oral statements in IETF sessions, as well as written and electronic communications made at any time or place, which are addressed to';
const DRAFTS = 'Internet-Drafts are draft documents valid for a maximum of six months and may be updated, replaced, or obsoleted by other documents at any time. It is inappropriate to use Internet-Drafts as reference material or to cite them other than as /\u201cwork in progress./\u201d';

const KEY_0_31 = unhex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const KEY_80_9F = unhex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
const KEY_ZERO = new Uint8Array(32);
const KEY_ONE = unhex('0000000000000000000000000000000000000000000000000000000000000001');
const KEY_1C92 = unhex('1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0');
const NONCE_ZERO = new Uint8Array(12);
const NONCE_TWO = unhex('000000000000000000000002');

check('rfc8439 2.3.2 block function',
  () => C.chacha20Block(KEY_0_31, 1, unhex('000000090000004a00000000')),
  unhex('10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e' +
        'd2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e'));

check('rfc8439 2.4.2 encryption',
  () => C.chacha20(KEY_0_31, 1, unhex('000000000000004a00000000'), utf8(SUNSCREEN)),
  unhex('6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b' +
        'f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8' +
        '07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736' +
        '5af90bbf74a35be6b40b8eedf2785e42874d'));

check('rfc8439 2.4.2 decryption',
  () => hex(C.chacha20(KEY_0_31, 1, unhex('000000000000004a00000000'), unhex(
        '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b' +
        'f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8' +
        '07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736' +
        '5af90bbf74a35be6b40b8eedf2785e42874d'))),
  hex(utf8(SUNSCREEN)));

check('rfc8439 2.5.2 poly1305',
  () => C.poly1305(unhex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b'),
                   utf8('Cryptographic Forum Research Group')),
  unhex('a8061dc1305136c6c22b8baf0c0127a9'));

check('rfc8439 2.6.2 poly1305 key generation',
  () => C.poly1305KeyGen(KEY_80_9F, unhex('000000000001020304050607')),
  unhex('8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646'));

const AEAD_NONCE = unhex('070000004041424344454647');
const AEAD_AAD = unhex('50515253c0c1c2c3c4c5c6c7');
const AEAD_CT = 'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6' +
  '3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36' +
  '92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
  '3ff4def08e4b7a9de576d26586cec64b6116';
const AEAD_TAG = '1ae10b594f09e26a7e902ecbd0600691';

check('rfc8439 2.8.2 aead one-time key',
  () => C.poly1305KeyGen(KEY_80_9F, AEAD_NONCE),
  unhex('7bac2b252db447af09b67a55a4e955840ae1d6731075d9eb2a9375783ed553ff'));
check('rfc8439 2.8.2 aead seal',
  () => C.seal(KEY_80_9F, AEAD_NONCE, utf8(SUNSCREEN), AEAD_AAD),
  unhex(AEAD_CT + AEAD_TAG));
check('rfc8439 2.8.2 aead open',
  () => C.open(KEY_80_9F, AEAD_NONCE, unhex(AEAD_CT + AEAD_TAG), AEAD_AAD),
  utf8(SUNSCREEN));
check('rfc8439 2.8.2 aead open rejects a flipped tag bit',
  () => C.open(KEY_80_9F, AEAD_NONCE, unhex(AEAD_CT + '1ae10b594f09e26a7e902ecbd0600690'), AEAD_AAD),
  'null');
check('rfc8439 2.8.2 aead open rejects other aad',
  () => C.open(KEY_80_9F, AEAD_NONCE, unhex(AEAD_CT + AEAD_TAG), unhex('50515253c0c1c2c3c4c5c6')),
  'null');

// Appendix A.1: block function
check('rfc8439 A.1 #1 block', () => C.chacha20Block(KEY_ZERO, 0, NONCE_ZERO),
  unhex('76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7' +
        'da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586'));
check('rfc8439 A.1 #2 block', () => C.chacha20Block(KEY_ZERO, 1, NONCE_ZERO),
  unhex('9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed' +
        '29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f'));
check('rfc8439 A.1 #3 block', () => C.chacha20Block(KEY_ONE, 1, NONCE_ZERO),
  unhex('3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a' +
        '8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0'));
check('rfc8439 A.1 #4 block',
  () => C.chacha20Block(unhex('00ff' + '00'.repeat(30)), 2, NONCE_ZERO),
  unhex('72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca' +
        '13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096'));
check('rfc8439 A.1 #5 block', () => C.chacha20Block(KEY_ZERO, 0, NONCE_TWO),
  unhex('c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7' +
        '8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d'));

// Appendix A.2: encryption
check('rfc8439 A.2 #1 encryption', () => C.chacha20(KEY_ZERO, 0, NONCE_ZERO, new Uint8Array(64)),
  unhex('76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7' +
        'da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586'));
check('rfc8439 A.2 #2 encryption', () => C.chacha20(KEY_ONE, 1, NONCE_TWO, utf8(IETF)),
  unhex('a3fbf07df3fa2fde4f376ca23e82737041605d9f4f4f57bd8cff2c1d4b7955ec' +
        '2a97948bd3722915c8f3d337f7d370050e9e96d647b7c39f56e031ca5eb6250d' +
        '4042e02785ececfa4b4bb5e8ead0440e20b6e8db09d881a7c6132f420e527950' +
        '42bdfa7773d8a9051447b3291ce1411c680465552aa6c405b7764d5e87bea85a' +
        'd00f8449ed8f72d0d662ab052691ca66424bc86d2df80ea41f43abf937d3259d' +
        'c4b2d0dfb48a6c9139ddd7f76966e928e635553ba76c5c879d7b35d49eb2e62b' +
        '0871cdac638939e25e8a1e0ef9d5280fa8ca328b351c3c765989cbcf3daa8b6c' +
        'cc3aaf9f3979c92b3720fc88dc95ed84a1be059c6499b9fda236e7e818b04b0b' +
        'c39c1e876b193bfe5569753f88128cc08aaa9b63d1a16f80ef2554d7189c411f' +
        '5869ca52c5b83fa36ff216b9c1d30062bebcfd2dc5bce0911934fda79a86f6e6' +
        '98ced759c3ff9b6477338f3da4f9cd8514ea9982ccafb341b2384dd902f3d1ab' +
        '7ac61dd29c6f21ba5b862f3730e37cfdc4fd806c22f221'));
check('rfc8439 A.2 #3 encryption', () => C.chacha20(KEY_1C92, 42, NONCE_TWO, utf8(JABBERWOCKY)),
  unhex('62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf' +
        '166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553eb' +
        'f39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f77' +
        '04c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1'));

// Appendix A.3: Poly1305, including the edge cases of the final reduction.
const Z16 = '00'.repeat(16);
check('rfc8439 A.3 #1 poly1305', () => C.poly1305(KEY_ZERO, new Uint8Array(64)), unhex(Z16));
check('rfc8439 A.3 #2 poly1305',
  () => C.poly1305(unhex(Z16 + '36e5f6b5c5e06070f0efca96227a863e'), utf8(IETF)),
  unhex('36e5f6b5c5e06070f0efca96227a863e'));
check('rfc8439 A.3 #3 poly1305',
  () => C.poly1305(unhex('36e5f6b5c5e06070f0efca96227a863e' + Z16), utf8(IETF)),
  unhex('f3477e7cd95417af89a6b8794c310cf0'));
check('rfc8439 A.3 #4 poly1305', () => C.poly1305(KEY_1C92, utf8(JABBERWOCKY)),
  unhex('4541669a7eaaee61e708dc7cbcc5eb62'));
const R1 = '01' + '00'.repeat(15), R2 = '02' + '00'.repeat(15), FF16 = 'ff'.repeat(16);
const polyEdge = [
  ['#5', R2 + Z16, FF16, '03' + '00'.repeat(15)],
  ['#6', R2 + FF16, '02' + '00'.repeat(15), '03' + '00'.repeat(15)],
  ['#7', R1 + Z16, FF16 + 'f0' + 'ff'.repeat(15) + '11' + '00'.repeat(15), '05' + '00'.repeat(15)],
  ['#8', R1 + Z16, FF16 + 'fb' + 'fe'.repeat(15) + '01'.repeat(16), Z16],
  ['#9', R2 + Z16, 'fd' + 'ff'.repeat(15), 'fa' + 'ff'.repeat(15)],
  ['#10', '0100000000000000040000000000000000' + '00'.repeat(15),
    'e33594d7505e43b90000000000000000' + '3394d7505e4379cd0100000000000000' + Z16 +
    '01000000000000000000000000000000', '14000000000000005500000000000000'],
  ['#11', '0100000000000000040000000000000000' + '00'.repeat(15),
    'e33594d7505e43b90000000000000000' + '3394d7505e4379cd0100000000000000' + Z16,
    '13000000000000000000000000000000'],
];
for (const [name, key, data, tag] of polyEdge) {
  check('rfc8439 A.3 ' + name + ' poly1305', () => C.poly1305(unhex(key), unhex(data)), unhex(tag));
}

// Appendix A.4: Poly1305 key generation
check('rfc8439 A.4 #1 key generation', () => C.poly1305KeyGen(KEY_ZERO, NONCE_ZERO),
  unhex('76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7'));
check('rfc8439 A.4 #2 key generation', () => C.poly1305KeyGen(KEY_ONE, NONCE_TWO),
  unhex('ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739'));
check('rfc8439 A.4 #3 key generation', () => C.poly1305KeyGen(KEY_1C92, NONCE_TWO),
  unhex('965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae'));

// Appendix A.5: AEAD decryption
check('rfc8439 A.5 aead open', () => C.open(KEY_1C92, unhex('000000000102030405060708'), unhex(
  '64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2' +
  '4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf' +
  '332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855' +
  '9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4' +
  'b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e' +
  'af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a' +
  '0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10' +
  '49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29' +
  'a6ad5cb4022b02709b' + 'eead9d67890cbb22392336fea1851f38'),
  unhex('f33388860000000000004e91')), utf8(DRAFTS));

// ---- Go sealed these: JavaScript must produce the same bytes and open them ----

input.aead.forEach((c, i) => {
  const key = unhex(c.key), nonce = unhex(c.nonce), aad = unhex(c.aad), pt = unhex(c.pt);
  check('go-sealed #' + i + ' (' + pt.length + ' bytes) seal', () => C.seal(key, nonce, pt, aad), unhex(c.ct));
  check('go-sealed #' + i + ' open', () => C.open(key, nonce, unhex(c.ct), aad), pt);
  const bad = unhex(c.ct);
  bad[bad.length - 1] ^= 0x80;
  check('go-sealed #' + i + ' open rejects a flipped tag bit', () => C.open(key, nonce, bad, aad), 'null');
});

// ---- JavaScript seals these: Go must open them -------------------------------

const AAD_LENGTHS = [0, 1, 12, 16, 17, 40];
[0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 1000, 4096].forEach((n, i) => {
  const key = rand(32), nonce = rand(12), aad = rand(AAD_LENGTHS[i % AAD_LENGTHS.length]), pt = rand(n);
  emit('SEAL', { key: hex(key), nonce: hex(nonce), aad: hex(aad), pt: hex(pt), ct: hex(C.seal(key, nonce, pt, aad)) });
});
['https://enroll.example/accept?token=\u00e4\u00f6\u00fc\u20ac', '\u65e5\u672c\u8a9e\ud83d\ude00\u2603'].forEach((s) => {
  const key = rand(32), nonce = rand(12), aad = C.handoffAAD('AAAAAAAAAAAAAAAAAAAAAA'), pt = utf8(s);
  emit('SEAL', { key: hex(key), nonce: hex(nonce), aad: hex(aad), pt: hex(pt), ct: hex(C.seal(key, nonce, pt, aad)) });
});

// ---- the hand-off envelope, exactly as the page builds it --------------------

input.invites.forEach((inv, i) => {
  let r;
  try {
    const key = C.parseKey('#' + inv.key);
    const id = C.parseId('/h/' + inv.id);
    r = C.sealInvitation(key, id, inv.text);
  } catch (e) {
    emit('INVITE', { i: i, error: e.reason || String(e) });
    return;
  }
  emit('INVITE', { i: i, body: r.body, code: r.code, bytes: r.bytes });
});

(function () {
  const key = rand(32);
  const a = JSON.parse(C.sealInvitation(key, 'AAAAAAAAAAAAAAAAAAAAAA', 'x').body);
  const b = JSON.parse(C.sealInvitation(key, 'AAAAAAAAAAAAAAAAAAAAAA', 'x').body);
  check('sealInvitation draws a fresh nonce', () => a.nonce !== b.nonce && a.ct !== b.ct, 'true');
})();
check('the page gets the module through the global EnrollSeal',
  () => globalThis.EnrollSeal.sealInvitation === S.sealInvitation && Object.isFrozen(globalThis.EnrollSeal), 'true');
check('unsupported() finds nothing missing in node', () => C.unsupported(), '');
checkThrows('seal rejects a 16-byte key', () => C.seal(new Uint8Array(16), new Uint8Array(12), new Uint8Array(1), new Uint8Array(0)));
checkThrows('seal rejects an 8-byte nonce', () => C.seal(new Uint8Array(32), new Uint8Array(8), new Uint8Array(1), new Uint8Array(0)));
checkThrows('seal rejects a string', () => C.seal(new Uint8Array(32), new Uint8Array(12), 'text', new Uint8Array(0)));

input.keys.forEach((k) => {
  if (k.ok) check('parseKey accepts ' + JSON.stringify(k.hash), () => C.parseKey(k.hash).length, '32');
  else checkThrows('parseKey rejects ' + JSON.stringify(k.hash), () => C.parseKey(k.hash));
});
input.paths.forEach((p) => {
  if (p.ok) check('parseId accepts ' + JSON.stringify(p.path), () => C.parseId(p.path), p.id);
  else checkThrows('parseId rejects ' + JSON.stringify(p.path), () => C.parseId(p.path));
});

// ---- matching code -----------------------------------------------------------

input.tags.forEach((t) => emit('CODE', { tag: t, code: C.matchCode(unhex(t)) }));
checkThrows('matchCode rejects a 15-byte tag', () => C.matchCode(new Uint8Array(15)));
checkThrows('matchCode rejects a whole ciphertext', () => C.matchCode(new Uint8Array(17)));

// ---- base64url ---------------------------------------------------------------

for (let n = 0; n <= 70; n++) {
  const b = rand(n);
  emit('B64', { hex: hex(b), b64: C.base64urlEncode(b) });
}
input.b64.forEach((c, i) => {
  check('base64url decode go #' + i, () => C.base64urlDecode(c.b64), unhex(c.hex));
  check('base64url encode go #' + i, () => C.base64urlEncode(unhex(c.hex)), c.b64);
});
input.b64bad.forEach((s) => checkThrows('base64url rejects ' + JSON.stringify(s), () => C.base64urlDecode(s)));

console.log('DONE');
`
