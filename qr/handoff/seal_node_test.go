package handoff

// The phone seals the invitation with page/chacha.js, a ChaCha20-Poly1305
// written for the page because browsers offer no WebCrypto on plain-http
// pages. These tests run that very file with node and check it against the
// RFC 8439 test vectors and against golang.org/x/crypto/chacha20poly1305,
// which the device uses to open what the phone sends.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// sealNodeDriver is run by node as: node driver.js page/chacha.js input.json.
// It prints one result per line:
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
const sealNodeDriver = `'use strict';
const fs = require('fs');
const nodeCrypto = require('crypto');
const C = require(process.argv[2]);
const input = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));

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

type sealNodeAEADCase struct {
	Key   string `json:"key"`
	Nonce string `json:"nonce"`
	AAD   string `json:"aad"`
	PT    string `json:"pt"`
	CT    string `json:"ct"`
}

type sealNodeInvite struct {
	Key  string `json:"key"` // base64url, as in the URL fragment
	ID   string `json:"id"`
	Text string `json:"text"`

	want    string // the plaintext the device must get
	wantErr string // or the reason the page must refuse
}

type sealNodeB64Case struct {
	Hex string `json:"hex"`
	B64 string `json:"b64"`
}

type sealNodeKeyCase struct {
	Hash string `json:"hash"`
	OK   bool   `json:"ok"`
}

type sealNodePathCase struct {
	Path string `json:"path"`
	ID   string `json:"id,omitempty"`
	OK   bool   `json:"ok"`
}

type sealNodeInput struct {
	AEAD    []sealNodeAEADCase `json:"aead"`
	Invites []sealNodeInvite   `json:"invites"`
	Keys    []sealNodeKeyCase  `json:"keys"`
	Paths   []sealNodePathCase `json:"paths"`
	Tags    []string           `json:"tags"`
	B64     []sealNodeB64Case  `json:"b64"`
	B64Bad  []string           `json:"b64bad"`
}

// sealNodeOutput is what the driver printed, by kind.
type sealNodeOutput struct {
	raw     string
	pass    []string
	fail    []string
	seals   []sealNodeAEADCase
	invites map[int]map[string]any
	codes   map[string]string // tag hex -> code
	b64     []sealNodeB64Case
}

func sealNodeRandom(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// sealNodeRefCode is the matching code as the device derives it: the first
// four bytes of the tag, big-endian, mod 1000000, as "123 456".
func sealNodeRefCode(tag []byte) string {
	n := binary.BigEndian.Uint32(tag[:4]) % 1000000
	s := fmt.Sprintf("%06d", n)
	return s[:3] + " " + s[3:]
}

func sealNodeInputs(t *testing.T) sealNodeInput {
	var in sealNodeInput
	enc := base64.RawURLEncoding

	for i, n := range []int{0, 1, 16, 64, 100, 4096} {
		key := sealNodeRandom(t, chacha20poly1305.KeySize)
		nonce := sealNodeRandom(t, chacha20poly1305.NonceSize)
		aad := sealNodeRandom(t, []int{0, 7, 16, 33}[i%4])
		pt := sealNodeRandom(t, n)
		aead, err := chacha20poly1305.New(key)
		if err != nil {
			t.Fatal(err)
		}
		in.AEAD = append(in.AEAD, sealNodeAEADCase{
			Key: hex.EncodeToString(key), Nonce: hex.EncodeToString(nonce), AAD: hex.EncodeToString(aad),
			PT: hex.EncodeToString(pt), CT: hex.EncodeToString(aead.Seal(nil, nonce, pt, aad)),
		})
	}

	key := enc.EncodeToString(sealNodeRandom(t, 32))
	id := enc.EncodeToString(sealNodeRandom(t, 16))
	invite := func(text, want, wantErr string) {
		in.Invites = append(in.Invites, sealNodeInvite{Key: key, ID: id, Text: text, want: want, wantErr: wantErr})
	}
	link := "https://enroll.example.com/accept?token=eyJhbGciOiJFZERTQSJ9.eyJpbnYiOiIxMjMifQ.c2ln"
	invite(link, link, "")
	invite("  \t"+link+" \r\n", link, "")
	invite("\u00a0"+link+"\n\n", link, "")
	invite("https://exämple.test/accept?token=äöü€😀&name=Zoë", "https://exämple.test/accept?token=äöü€😀&name=Zoë", "")
	invite("日本語のテキスト ☃", "日本語のテキスト ☃", "")
	invite(strings.Repeat("é", 2048), strings.Repeat("é", 2048), "") // exactly 4096 bytes
	invite("  "+strings.Repeat("a", 4096)+"\n", strings.Repeat("a", 4096), "")
	invite(strings.Repeat("é", 2048)+"a", "", "too-long") // 4097 bytes
	invite(strings.Repeat("a", 5000), "", "too-long")
	invite("", "", "empty")
	invite(" \n\t ", "", "empty")
	// Keys and ids other than this session's, one of each.
	other := len(in.Invites)
	invite("https://enroll.example.com/accept?token=other-session", "https://enroll.example.com/accept?token=other-session", "")
	in.Invites[other].Key = enc.EncodeToString(sealNodeRandom(t, 32))
	in.Invites[other].ID = enc.EncodeToString(sealNodeRandom(t, 16))

	goodKey := enc.EncodeToString(sealNodeRandom(t, 32))
	in.Keys = []sealNodeKeyCase{
		{"#" + goodKey, true},
		{goodKey, true},
		{"", false},
		{"#", false},
		{"#" + enc.EncodeToString(sealNodeRandom(t, 31)), false},
		{"#" + enc.EncodeToString(sealNodeRandom(t, 33)), false},
		{"#" + goodKey + "=", false},
		{"#" + base64.URLEncoding.EncodeToString(sealNodeRandom(t, 32)), false}, // padded
		{"#" + strings.Repeat("+", 43), false},
		{"#" + goodKey[:42], false},
		{"#" + goodKey + "&x=1", false},
	}
	goodID := enc.EncodeToString(sealNodeRandom(t, 16))
	in.Paths = []sealNodePathCase{
		{Path: "/h/" + goodID, ID: goodID, OK: true},
		{Path: "/h/" + goodID + "/", ID: goodID, OK: true},
		{Path: "/", OK: false},
		{Path: "/h/", OK: false},
		{Path: "/x/" + goodID, OK: false},
		{Path: "/h/" + goodID + "/app.js", OK: false},
		{Path: "/h/" + enc.EncodeToString(sealNodeRandom(t, 15)), OK: false},
		{Path: "/h/" + enc.EncodeToString(sealNodeRandom(t, 17)), OK: false},
		{Path: "/h/" + goodID[:21] + "+", OK: false},
	}

	in.Tags = []string{
		strings.Repeat("00", 16),
		strings.Repeat("ff", 16),
		"000f423f" + strings.Repeat("00", 12), // 999999
		"000f4240" + strings.Repeat("ab", 12), // 1000000
		"80000000" + strings.Repeat("00", 12), // high bit set
		"7fffffff" + strings.Repeat("11", 12),
		"00000001" + strings.Repeat("ff", 12),
	}
	for range 25 {
		in.Tags = append(in.Tags, hex.EncodeToString(sealNodeRandom(t, 16)))
	}

	for n := range 40 {
		b := sealNodeRandom(t, n)
		in.B64 = append(in.B64, sealNodeB64Case{Hex: hex.EncodeToString(b), B64: enc.EncodeToString(b)})
	}
	in.B64Bad = []string{"A", "AAAAA", "AB", "AAB", "AA=", "AA==", "ab+c", "ab/c", "ab c", "é", "ABC."}
	for _, s := range in.B64Bad {
		if _, err := enc.Strict().DecodeString(s); err == nil {
			t.Fatalf("the list of bad base64url strings holds %q, which Go accepts", s)
		}
	}
	return in
}

// runSealNode runs the driver on page/chacha.js and collects its output.
func runSealNode(t *testing.T, in sealNodeInput) sealNodeOutput {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	script, err := filepath.Abs(filepath.Join("page", "chacha.js"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	driver := filepath.Join(dir, "driver.js")
	if err := os.WriteFile(driver, []byte(sealNodeDriver), 0o600); err != nil {
		t.Fatal(err)
	}
	inputJSON, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	inputPath := filepath.Join(dir, "input.json")
	if err := os.WriteFile(inputPath, inputJSON, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, driver, script, inputPath)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", driver, err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("node wrote to stderr:\n%s", stderr.String())
	}

	out := sealNodeOutput{raw: stdout.String(), invites: map[int]map[string]any{}, codes: map[string]string{}}
	done := false
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		kind, rest, _ := strings.Cut(line, " ")
		var err error
		switch kind {
		case "PASS":
			out.pass = append(out.pass, rest)
		case "FAIL":
			out.fail = append(out.fail, rest)
		case "SEAL":
			var c sealNodeAEADCase
			err = json.Unmarshal([]byte(rest), &c)
			out.seals = append(out.seals, c)
		case "INVITE":
			var m map[string]any
			err = json.Unmarshal([]byte(rest), &m)
			if i, ok := m["i"].(float64); ok {
				out.invites[int(i)] = m
			} else if err == nil {
				err = fmt.Errorf("no index")
			}
		case "CODE":
			var c struct{ Tag, Code string }
			err = json.Unmarshal([]byte(rest), &c)
			out.codes[c.Tag] = c.Code
		case "B64":
			var c sealNodeB64Case
			err = json.Unmarshal([]byte(rest), &c)
			out.b64 = append(out.b64, c)
		case "DONE":
			done = true
		default:
			err = fmt.Errorf("unknown kind %q", kind)
		}
		if err != nil {
			t.Fatalf("cannot read the driver's line %q: %v", line, err)
		}
	}
	if !done {
		t.Fatalf("the driver did not run to its end; its output:\n%s", out.raw)
	}
	return out
}

func TestNodeSealChaCha20Poly1305(t *testing.T) {
	in := sealNodeInputs(t)
	out := runSealNode(t, in)

	t.Run("rfc8439-vectors", func(t *testing.T) {
		required := []string{
			"rfc8439 2.3.2 block function",
			"rfc8439 2.4.2 encryption",
			"rfc8439 2.5.2 poly1305",
			"rfc8439 2.6.2 poly1305 key generation",
			"rfc8439 2.8.2 aead seal",
			"rfc8439 2.8.2 aead open",
		}
		passed := map[string]bool{}
		for _, p := range out.pass {
			passed[p] = true
		}
		for _, name := range required {
			if !passed[name] {
				t.Errorf("no PASS for %q", name)
			}
		}
		n := 0
		for _, p := range out.pass {
			if strings.HasPrefix(p, "rfc8439 ") {
				n++
			}
		}
		t.Logf("%d RFC 8439 checks passed", n)
	})

	t.Run("node-checks", func(t *testing.T) {
		if len(out.fail) > 0 {
			t.Errorf("%d checks failed in node:\n  FAIL %s\nfull output:\n%s",
				len(out.fail), strings.Join(out.fail, "\n  FAIL "), out.raw)
		}
		if len(out.pass) < 60 {
			t.Errorf("only %d checks passed in node, want at least 60", len(out.pass))
		}
	})

	t.Run("javascript-sealed-go-opens", func(t *testing.T) {
		lengths := map[int]bool{}
		for i, c := range out.seals {
			key, nonce, aad, pt, ct := sealNodeUnhex(t, c.Key), sealNodeUnhex(t, c.Nonce),
				sealNodeUnhex(t, c.AAD), sealNodeUnhex(t, c.PT), sealNodeUnhex(t, c.CT)
			lengths[len(pt)] = true
			aead, err := chacha20poly1305.New(key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := aead.Open(nil, nonce, ct, aad)
			if err != nil {
				t.Errorf("seal #%d (%d bytes): Go cannot open what JavaScript sealed: %v", i, len(pt), err)
				continue
			}
			if !bytes.Equal(got, pt) {
				t.Errorf("seal #%d: opened %x, want %x", i, got, pt)
			}
			if want := aead.Seal(nil, nonce, pt, aad); !bytes.Equal(ct, want) {
				t.Errorf("seal #%d: JavaScript sealed %x, Go seals %x", i, ct, want)
			}
			for _, tamper := range sealNodeTampers(ct, nonce, aad) {
				if _, err := aead.Open(nil, tamper.nonce, tamper.ct, tamper.aad); err == nil {
					t.Errorf("seal #%d: Go opened it with %s", i, tamper.what)
				}
			}
		}
		for _, n := range []int{0, 1, 63, 64, 65, 1000, 4096} {
			if !lengths[n] {
				t.Errorf("no %d-byte plaintext was sealed", n)
			}
		}
		var nonASCII bool
		for _, c := range out.seals {
			if pt := sealNodeUnhex(t, c.PT); strings.ContainsFunc(string(pt), func(r rune) bool { return r > 0x7f }) &&
				strings.ToValidUTF8(string(pt), "") == string(pt) {
				nonASCII = true
			}
		}
		if !nonASCII {
			t.Error("no non-ASCII UTF-8 text was sealed")
		}
	})

	t.Run("envelope", func(t *testing.T) {
		for i, inv := range in.Invites {
			m, ok := out.invites[i]
			if !ok {
				t.Errorf("invite #%d: no result from node", i)
				continue
			}
			if inv.wantErr != "" {
				if m["error"] != inv.wantErr {
					t.Errorf("invite #%d (%d bytes): got %v, want the error %q", i, len(inv.Text), m, inv.wantErr)
				}
				continue
			}
			if e, ok := m["error"]; ok {
				t.Errorf("invite #%d %q: refused: %v", i, inv.Text, e)
				continue
			}
			body, _ := m["body"].(string)
			pt, tag := sealNodeOpenEnvelope(t, inv, body)
			if pt == nil {
				continue
			}
			if string(pt) != inv.want {
				t.Errorf("invite #%d: the device got %q, want %q", i, pt, inv.want)
			}
			if got, want := m["code"], sealNodeRefCode(tag); got != want {
				t.Errorf("invite #%d: the page shows the code %v, the protocol says %q", i, got, want)
			}
			if got, want := m["code"], matchCode(tag); got != want {
				t.Errorf("invite #%d: the page shows the code %v, the device %q", i, got, want)
			}
			if got := m["bytes"]; got != float64(len(inv.want)) {
				t.Errorf("invite #%d: bytes = %v, want %d", i, got, len(inv.want))
			}
		}
	})

	t.Run("match-code", func(t *testing.T) {
		codeRE := regexp.MustCompile(`^[0-9]{3} [0-9]{3}$`)
		for _, tagHex := range in.Tags {
			got, ok := out.codes[tagHex]
			want := sealNodeRefCode(sealNodeUnhex(t, tagHex))
			if !ok || got != want {
				t.Errorf("page matchCode(%s) = %q, the protocol says %q", tagHex, got, want)
			}
			// The server's own function, which the wizard shows.
			if server := matchCode(sealNodeUnhex(t, tagHex)); got != server {
				t.Errorf("page matchCode(%s) = %q, the device shows %q", tagHex, got, server)
			}
			if !codeRE.MatchString(want) {
				t.Errorf("code %q is not of the form 123 456", want)
			}
		}
		for tag, want := range map[string]string{
			strings.Repeat("00", 16):              "000 000",
			strings.Repeat("ff", 16):              "967 295", // 4294967295 mod 10^6
			"000f423f" + strings.Repeat("00", 12): "999 999",
			"000f4240" + strings.Repeat("ab", 12): "000 000",
			"80000000" + strings.Repeat("00", 12): "483 648", // 2147483648
		} {
			if got := out.codes[tag]; got != want {
				t.Errorf("matchCode(%s) = %q, want %q", tag, got, want)
			}
		}
	})

	t.Run("base64url", func(t *testing.T) {
		if len(out.b64) < 71 {
			t.Errorf("got %d base64url samples from node, want 71", len(out.b64))
		}
		for _, c := range out.b64 {
			b := sealNodeUnhex(t, c.Hex)
			if want := base64.RawURLEncoding.EncodeToString(b); c.B64 != want {
				t.Errorf("base64urlEncode(%s) = %q, Go says %q", c.Hex, c.B64, want)
			}
			got, err := base64.RawURLEncoding.Strict().DecodeString(c.B64)
			if err != nil || !bytes.Equal(got, b) {
				t.Errorf("Go decodes %q to %x, %v; want %s", c.B64, got, err, c.Hex)
			}
		}
	})
}

// sealNodeOpenEnvelope opens a POST body the way the device does: strict
// JSON, version 1, base64url without padding, AAD "enroll-handoff-v1:"+id.
// It returns the plaintext and the tag, or nil after reporting an error.
func sealNodeOpenEnvelope(t *testing.T, inv sealNodeInvite, body string) (pt, tag []byte) {
	t.Helper()
	var env struct {
		V     int    `json:"v"`
		Nonce string `json:"nonce"`
		CT    string `json:"ct"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Errorf("body %q: %v", body, err)
		return nil, nil
	}
	var keys []string
	var fields map[string]any
	_ = json.Unmarshal([]byte(body), &fields)
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if env.V != 1 || strings.Join(keys, ",") != "ct,nonce,v" {
		t.Errorf("body %q: want exactly v=1, nonce and ct", body)
	}
	enc := base64.RawURLEncoding.Strict()
	nonce, err := enc.DecodeString(env.Nonce)
	if err != nil || len(nonce) != chacha20poly1305.NonceSize {
		t.Errorf("nonce %q: %d bytes, %v", env.Nonce, len(nonce), err)
		return nil, nil
	}
	ct, err := enc.DecodeString(env.CT)
	if err != nil || len(ct) < chacha20poly1305.Overhead {
		t.Errorf("ct %q: %v", env.CT, err)
		return nil, nil
	}
	key, err := enc.DecodeString(inv.Key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("enroll-handoff-v1:" + inv.ID)
	pt, err = aead.Open(nil, nonce, ct, aad)
	if err != nil {
		t.Errorf("the device cannot open the page's envelope for %q: %v", inv.Text, err)
		return nil, nil
	}
	for _, tamper := range sealNodeTampers(ct, nonce, aad) {
		if _, err := aead.Open(nil, tamper.nonce, tamper.ct, tamper.aad); err == nil {
			t.Errorf("the device opened the envelope with %s", tamper.what)
		}
	}
	if _, err := aead.Open(nil, nonce, ct, []byte("enroll-handoff-v1:"+strings.Repeat("A", 22))); err == nil {
		t.Error("the device opened the envelope with another session's id")
	}
	return pt, ct[len(ct)-chacha20poly1305.Overhead:]
}

type sealNodeTamper struct {
	what           string
	ct, nonce, aad []byte
}

// sealNodeTampers returns variants of a sealed message that must not open.
func sealNodeTampers(ct, nonce, aad []byte) []sealNodeTamper {
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	ts := []sealNodeTamper{
		{"the first ciphertext byte flipped", flip(ct, 0), nonce, aad},
		{"the last tag byte flipped", flip(ct, len(ct)-1), nonce, aad},
		{"the tag cut off", ct[:len(ct)-1], nonce, aad},
		{"another nonce", ct, flip(nonce, 11), aad},
		{"one more AAD byte", ct, nonce, append(bytes.Clone(aad), 0)},
	}
	if len(ct) > chacha20poly1305.Overhead {
		ts = append(ts, sealNodeTamper{"the last ciphertext byte flipped", flip(ct, len(ct)-chacha20poly1305.Overhead-1), nonce, aad})
	}
	if len(aad) > 0 {
		ts = append(ts, sealNodeTamper{"the AAD changed", ct, nonce, flip(aad, 0)})
	}
	return ts
}

func sealNodeUnhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// TestPageIsCSPClean checks the page for what the Content-Security-Policy
// (default-src 'none'; script-src 'self'; style-src 'self'; ...) would
// block: inline scripts, inline styles, style attributes, event-handler
// attributes, eval, and anything loaded from elsewhere.
func TestPageIsCSPClean(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("page", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	html := read("index.html")
	htmlNoComments := regexp.MustCompile(`(?s)<!--.*?-->`).ReplaceAllString(html, "")

	for _, bad := range []struct{ re, what string }{
		{`(?i)<style`, "a style element"},
		{`(?i)\sstyle\s*=`, "a style attribute"},
		{`(?i)\son[a-z]+\s*=`, "an event-handler attribute"},
		{`(?i)(src|href)\s*=\s*"(https?:)?//`, "something loaded from elsewhere"},
		{`(?i)(src|href)\s*=\s*"data:`, "a data: URL"},
		{`(?i)=\s*"\s*javascript:`, "a javascript: URL"},
		{`(?i)<img|<iframe|<object|<embed|<base`, "an element the CSP forbids"},
	} {
		if m := regexp.MustCompile(bad.re).FindString(htmlNoComments); m != "" {
			t.Errorf("index.html has %s: %q", bad.what, m)
		}
	}
	scripts := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`).FindAllStringSubmatch(htmlNoComments, -1)
	if n := len(regexp.MustCompile(`(?i)<script\b`).FindAllString(htmlNoComments, -1)); n != len(scripts) || n != 2 {
		t.Errorf("index.html has %d script tags (%d closed), want 2", n, len(scripts))
	}
	for _, s := range scripts {
		if !regexp.MustCompile(`\ssrc="[^"]+"`).MatchString(s[1]) || strings.TrimSpace(s[2]) != "" {
			t.Errorf("index.html has an inline script: %q", s[0])
		}
	}
	for _, want := range []string{
		`<title>enroll — hand an invitation to a device</title>`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<script src="/h/__HANDOFF_ID__/chacha.js" defer></script>`,
		`<script src="/h/__HANDOFF_ID__/app.js" defer></script>`,
		`<link rel="stylesheet" href="/h/__HANDOFF_ID__/style.css">`,
		`aria-live="polite"`,
		`<label for="link">`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, name := range []string{"app.js", "chacha.js"} {
		js := read(name)
		for _, bad := range []string{"eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", ".style.", "setAttribute('style'", "import("} {
			if strings.Contains(js, bad) {
				t.Errorf("%s uses %q", name, bad)
			}
		}
	}
	if css := read("style.css"); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
		t.Error("style.css loads something (url() or @import), which the CSP blocks")
	}
}
