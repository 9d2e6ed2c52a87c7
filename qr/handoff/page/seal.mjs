/*
 * seal.mjs: the sealed envelope of the enroll QR hand-off, for the
 * phone-side page. The cipher is ChaCha20-Poly1305 (RFC 8439) from
 * @noble/ciphers, an audited library vendored unchanged at a pinned version
 * in vendor/noble-ciphers (see qr/handoff/vendor.sh); this file only builds
 * the hand-off's wire format around it.
 *
 * Why not WebCrypto: browsers offer crypto.subtle only on secure origins, and
 * the hand-off page is served over plain http from the device on the local
 * network. crypto.getRandomValues is available there, so the page draws its
 * nonce from it.
 *
 * The device shows http://<ip>:<port>/h/<id>#<key>. The page seals the
 * trimmed invitation text and posts
 *   {"v":1,"nonce":"<base64url 12 bytes>","ct":"<base64url ct||tag>"}
 * to /h/<id>, with AAD = "enroll-handoff-v1:" + id. Both sides show
 * matchCode(tag). The device opens it with Go's
 * golang.org/x/crypto/chacha20poly1305.
 *
 * An ES module, loaded by the page with <script type="module"> and by the
 * Go tests with node. For the page it also sets the global EnrollSeal, which
 * app.js (a classic script that runs after it) reads: if this module or the
 * library cannot load, app.js still runs and says so.
 */
import { chacha20poly1305 } from './vendor/noble-ciphers/chacha.js';

export const VERSION = 1;
export const AAD_PREFIX = 'enroll-handoff-v1:';
export const MAX_INVITATION_BYTES = 4096;
const ID_BYTES = 16;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function requireBytes(name, x, len) {
  if (!(x instanceof Uint8Array)) {
    throw new TypeError(name + ' must be a Uint8Array');
  }
  if (len !== undefined && x.length !== len) {
    throw new RangeError(name + ' must be ' + len + ' bytes, not ' + x.length);
  }
}

// ---- the cipher --------------------------------------------------------------

// seal(key, nonce, plaintext, aad) returns ciphertext || 16-byte tag, the
// same bytes as Go's chacha20poly1305.New(key).Seal(nil, nonce, pt, aad).
// A nonce must never be used twice with the same key.
export function seal(key, nonce, plaintext, aad) {
  requireBytes('key', key, KEY_BYTES);
  requireBytes('nonce', nonce, NONCE_BYTES);
  requireBytes('plaintext', plaintext);
  requireBytes('aad', aad);
  return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

// ---- base64url without padding (RFC 4648 section 5) --------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function base64urlEncode(bytes) {
  requireBytes('bytes', bytes);
  let out = '', i = 0, n;
  for (; i + 3 <= bytes.length; i += 3) {
    n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64.charAt(n >>> 18) + B64.charAt((n >>> 12) & 63) +
      B64.charAt((n >>> 6) & 63) + B64.charAt(n & 63);
  }
  if (bytes.length - i === 1) {
    n = bytes[i] << 16;
    out += B64.charAt(n >>> 18) + B64.charAt((n >>> 12) & 63);
  } else if (bytes.length - i === 2) {
    n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64.charAt(n >>> 18) + B64.charAt((n >>> 12) & 63) + B64.charAt((n >>> 6) & 63);
  }
  return out;
}

// base64urlDecode(str) accepts exactly what Go's
// base64.RawURLEncoding.Strict() accepts: the URL-safe alphabet, no padding,
// no white space, and zero bits in the unused tail. Anything else throws.
export function base64urlDecode(str) {
  if (typeof str !== 'string') throw new TypeError('base64url input must be a string');
  if (str.length % 4 === 1) throw new Error('base64url: impossible length ' + str.length);
  const out = new Uint8Array(Math.floor(str.length * 3 / 4));
  let acc = 0, bits = 0, j = 0;
  for (let i = 0; i < str.length; i++) {
    const v = B64.indexOf(str.charAt(i));
    if (v < 0) throw new Error('base64url: bad character at ' + i);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >>> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) throw new Error('base64url: non-zero trailing bits');
  return out;
}

// ---- the hand-off envelope ----------------------------------------------------

function utf8(str) {
  return new TextEncoder().encode(str);
}

function handoffError(reason, message) {
  const e = new Error(message);
  e.reason = reason;
  return e;
}

// parseId('/h/<id>') returns <id>: 22 base64url characters, 16 bytes.
export function parseId(pathname) {
  const m = /^\/h\/([A-Za-z0-9_-]+)\/?$/.exec(String(pathname));
  if (m === null) throw handoffError('bad-id', 'not a hand-off address');
  let raw;
  try {
    raw = base64urlDecode(m[1]);
  } catch (e) {
    throw handoffError('bad-id', 'the hand-off id is damaged');
  }
  if (raw.length !== ID_BYTES) throw handoffError('bad-id', 'the hand-off id is damaged');
  return m[1];
}

// parseKey('#<key>') returns the 32-byte key from the URL fragment.
export function parseKey(hash) {
  let s = String(hash);
  if (s.charAt(0) === '#') s = s.slice(1);
  if (s === '') throw handoffError('no-key', 'the address has no key');
  let key;
  try {
    key = base64urlDecode(s);
  } catch (e) {
    throw handoffError('bad-key', 'the key in the address is damaged');
  }
  if (key.length !== KEY_BYTES) throw handoffError('bad-key', 'the key in the address is damaged');
  return key;
}

// invitationBytes(text): what gets sealed, the UTF-8 of the trimmed text.
export function invitationBytes(text) {
  return utf8(String(text).trim());
}

function randomBytes(n) {
  const c = globalThis.crypto;
  if (!c || typeof c.getRandomValues !== 'function') {
    throw new Error('no crypto.getRandomValues');
  }
  return c.getRandomValues(new Uint8Array(n));
}

export function handoffAAD(id) {
  return utf8(AAD_PREFIX + id);
}

// matchCode(tag): the short code both sides show. The first 4 bytes of the
// 16-byte tag as a big-endian uint32, mod 1000000, six digits with leading
// zeros, split "123 456" (with an ordinary space).
export function matchCode(tag) {
  requireBytes('tag', tag, TAG_BYTES);
  const n = ((tag[0] << 24) >>> 0) + (tag[1] << 16) + (tag[2] << 8) + tag[3];
  let digits = String(n % 1000000);
  while (digits.length < 6) digits = '0' + digits;
  return digits.slice(0, 3) + ' ' + digits.slice(3);
}

// sealInvitation(key, id, text[, nonce]) seals the trimmed text for the
// hand-off id and returns {body, code, bytes}: body is the JSON to POST, code
// the matching code, bytes the plaintext length. The nonce comes from
// crypto.getRandomValues unless given (tests only). Throws an Error with
// .reason 'empty' or 'too-long' for text the device would not take.
export function sealInvitation(key, id, text, nonce) {
  requireBytes('key', key, KEY_BYTES);
  const pt = invitationBytes(text);
  if (pt.length === 0) throw handoffError('empty', 'nothing to send');
  if (pt.length > MAX_INVITATION_BYTES) {
    throw handoffError('too-long', 'the text is ' + pt.length + ' bytes, more than ' +
      MAX_INVITATION_BYTES);
  }
  if (nonce === undefined) nonce = randomBytes(NONCE_BYTES);
  requireBytes('nonce', nonce, NONCE_BYTES);
  const ct = seal(key, nonce, pt, handoffAAD(id));
  return {
    body: JSON.stringify({ v: VERSION, nonce: base64urlEncode(nonce), ct: base64urlEncode(ct) }),
    code: matchCode(ct.subarray(ct.length - TAG_BYTES)),
    bytes: pt.length
  };
}

// unsupported() names what this browser lacks for sealing, or returns ''.
// (The library computes Poly1305's length block with BigInt.)
export function unsupported() {
  const missing = [];
  if (typeof BigInt !== 'function') missing.push('BigInt');
  if (typeof TextEncoder !== 'function') missing.push('TextEncoder');
  const c = globalThis.crypto;
  if (!c || typeof c.getRandomValues !== 'function') missing.push('crypto.getRandomValues');
  return missing.join(', ');
}

globalThis.EnrollSeal = Object.freeze({
  VERSION, AAD_PREFIX, MAX_INVITATION_BYTES,
  parseId, parseKey, invitationBytes, handoffAAD, matchCode, sealInvitation, unsupported
});
