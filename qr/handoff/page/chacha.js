/*
 * chacha.js: ChaCha20-Poly1305 (RFC 8439) and the sealed envelope of the
 * enroll QR hand-off, for the phone-side page.
 *
 * Why this exists: browsers offer WebCrypto (crypto.subtle) only on secure
 * origins, and the hand-off page is served over plain http from the device on
 * the local network. crypto.getRandomValues is available there, so the page
 * draws its nonce from it and does the rest here.
 *
 * What it does:
 *   chacha20Block   RFC 8439 section 2.3
 *   chacha20        RFC 8439 section 2.4 (encryption = decryption)
 *   poly1305        RFC 8439 section 2.5
 *   poly1305KeyGen  RFC 8439 section 2.6
 *   seal / open     RFC 8439 section 2.8 (AEAD_CHACHA20_POLY1305)
 * and the hand-off protocol on top of it (sealInvitation, matchCode, ...).
 *
 * Timing: Poly1305 is computed with BigInt, which is exact and easy to check
 * against the RFC but not constant-time. That is acceptable here: the phone
 * seals one message under a one-time key and never verifies tags for anyone,
 * so there is no timing oracle for an attacker to query. Do not reuse this
 * file for verifying tags on a server. (open() exists for tests and compares
 * tags without an early exit, but the BigInt arithmetic is still variable
 * time.)
 *
 * BigInt is used through BigInt(...) calls only, never through 123n
 * literals, so that the file still parses on a browser without BigInt and
 * the page can say "this browser is too old" instead of failing silently.
 *
 * Works as a browser script (sets the global EnrollChaCha) and as a Node
 * module (module.exports), so that the Go tests run this very file.
 */
(function (root) {
  'use strict';

  // ---- bytes ---------------------------------------------------------------

  function isBytes(x) {
    return x instanceof Uint8Array;
  }

  function requireBytes(name, x, len) {
    if (!isBytes(x)) {
      throw new TypeError(name + ' must be a Uint8Array');
    }
    if (len !== undefined && x.length !== len) {
      throw new RangeError(name + ' must be ' + len + ' bytes, not ' + x.length);
    }
  }

  function concatBytes(parts) {
    var total = 0, i;
    for (i = 0; i < parts.length; i++) total += parts[i].length;
    var out = new Uint8Array(total), at = 0;
    for (i = 0; i < parts.length; i++) {
      out.set(parts[i], at);
      at += parts[i].length;
    }
    return out;
  }

  function readLE32(b, at) {
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }

  function writeLE32(b, at, v) {
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }

  // ---- ChaCha20 (RFC 8439 2.1-2.4) -----------------------------------------

  // "expand 32-byte k" as four little-endian words.
  var SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

  function rotl(x, n) {
    return (x << n) | (x >>> (32 - n));
  }

  // The quarter round of 2.1, on four words of the state s. Storing into a
  // Uint32Array reduces every sum modulo 2^32.
  function quarterRound(s, a, b, c, d) {
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 16);
    s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 12);
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 8);
    s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 7);
  }

  function checkCounter(counter) {
    if (typeof counter !== 'number' || !(counter >= 0 && counter <= 0xffffffff) ||
        Math.floor(counter) !== counter) {
      throw new RangeError('counter must be an integer in [0, 2^32)');
    }
  }

  // chacha20Block(key, counter, nonce) returns the 64-byte serialized block
  // of 2.3: state = constants | key | counter | nonce, 20 rounds (10 column
  // and 10 diagonal), add the initial state, serialize little-endian.
  function chacha20Block(key, counter, nonce) {
    requireBytes('key', key, 32);
    requireBytes('nonce', nonce, 12);
    checkCounter(counter);

    var init = new Uint32Array(16), i;
    for (i = 0; i < 4; i++) init[i] = SIGMA[i];
    for (i = 0; i < 8; i++) init[4 + i] = readLE32(key, 4 * i);
    init[12] = counter;
    for (i = 0; i < 3; i++) init[13 + i] = readLE32(nonce, 4 * i);

    var s = new Uint32Array(init);
    for (i = 0; i < 10; i++) {
      quarterRound(s, 0, 4, 8, 12); // columns
      quarterRound(s, 1, 5, 9, 13);
      quarterRound(s, 2, 6, 10, 14);
      quarterRound(s, 3, 7, 11, 15);
      quarterRound(s, 0, 5, 10, 15); // diagonals
      quarterRound(s, 1, 6, 11, 12);
      quarterRound(s, 2, 7, 8, 13);
      quarterRound(s, 3, 4, 9, 14);
    }

    var out = new Uint8Array(64);
    for (i = 0; i < 16; i++) writeLE32(out, 4 * i, s[i] + init[i]);
    return out;
  }

  // chacha20(key, counter, nonce, data) XORs data with the keystream that
  // starts at block `counter` (2.4). Encryption and decryption are the same.
  function chacha20(key, counter, nonce, data) {
    requireBytes('data', data);
    checkCounter(counter);
    var blocks = Math.ceil(data.length / 64);
    if (blocks > 0 && counter + blocks - 1 > 0xffffffff) {
      throw new RangeError('message too long for the 32-bit block counter');
    }
    var out = new Uint8Array(data.length);
    for (var j = 0; j < blocks; j++) {
      var ks = chacha20Block(key, counter + j, nonce);
      var start = 64 * j, end = Math.min(start + 64, data.length);
      for (var k = start; k < end; k++) out[k] = data[k] ^ ks[k - start];
    }
    return out;
  }

  // ---- Poly1305 (RFC 8439 2.5) ---------------------------------------------

  var hasBigInt = typeof BigInt === 'function';
  var big = null; // constants, made on first use

  function bigConstants() {
    if (!hasBigInt) throw new Error('this browser has no BigInt');
    if (big === null) {
      big = {
        zero: BigInt(0),
        p: (BigInt(1) << BigInt(130)) - BigInt(5), // 2^130 - 5
        clamp: BigInt('0x0ffffffc0ffffffc0ffffffc0fffffff'),
        mask128: (BigInt(1) << BigInt(128)) - BigInt(1)
      };
    }
    return big;
  }

  function hex2(v) {
    return (v < 16 ? '0' : '') + v.toString(16);
  }

  // The little-endian number in b[start:end], with `top` (a hex string, may
  // be empty) as its most significant bytes.
  function leNumber(b, start, end, top) {
    var hex = top;
    for (var i = end - 1; i >= start; i--) hex += hex2(b[i]);
    return hex === '' ? BigInt(0) : BigInt('0x' + hex);
  }

  // poly1305(key, msg) returns the 16-byte tag of msg under the 32-byte
  // one-time key: r = clamp(key[0:16]), s = key[16:32], and for each 16-byte
  // chunk (the last may be shorter) acc = ((acc + chunk | 0x01) * r) mod p;
  // the tag is (acc + s) mod 2^128, little-endian.
  function poly1305(key, msg) {
    requireBytes('key', key, 32);
    requireBytes('msg', msg);
    var c = bigConstants();
    var r = leNumber(key, 0, 16, '') & c.clamp;
    var s = leNumber(key, 16, 32, '');
    var acc = c.zero;
    for (var at = 0; at < msg.length; at += 16) {
      var end = Math.min(at + 16, msg.length);
      // '01' above the chunk's bytes is the "one bit beyond the number of
      // octets": 2^128 for a full chunk, 2^(8*len) for a short last one.
      acc = ((acc + leNumber(msg, at, end, '01')) * r) % c.p;
    }
    acc = (acc + s) & c.mask128;

    var hex = acc.toString(16);
    while (hex.length < 32) hex = '0' + hex;
    var tag = new Uint8Array(16);
    for (var i = 0; i < 16; i++) {
      // byte i is the i-th least significant: read the hex from the right.
      tag[i] = parseInt(hex.substr(30 - 2 * i, 2), 16);
    }
    return tag;
  }

  // ---- AEAD (RFC 8439 2.6, 2.8) --------------------------------------------

  // poly1305KeyGen(key, nonce): the first 32 bytes of block 0 (2.6).
  function poly1305KeyGen(key, nonce) {
    return chacha20Block(key, 0, nonce).subarray(0, 32);
  }

  function le64(n) {
    // Lengths here are far below 2^53, so two 32-bit halves are exact.
    var b = new Uint8Array(8);
    writeLE32(b, 0, n >>> 0);
    writeLE32(b, 4, Math.floor(n / 0x100000000) >>> 0);
    return b;
  }

  function pad16(n) {
    return new Uint8Array((16 - (n % 16)) % 16);
  }

  // The Poly1305 input of 2.8: aad | pad16 | ct | pad16 | le64(len aad) |
  // le64(len ct).
  function aeadTag(otk, aad, ct) {
    return poly1305(otk, concatBytes([
      aad, pad16(aad.length), ct, pad16(ct.length), le64(aad.length), le64(ct.length)
    ]));
  }

  var TAG_SIZE = 16;

  // seal(key, nonce, plaintext, aad) returns ciphertext || 16-byte tag, the
  // same bytes as Go's chacha20poly1305.New(key).Seal(nil, nonce, pt, aad).
  // A nonce must never be used twice with the same key.
  function seal(key, nonce, plaintext, aad) {
    if (aad === undefined) aad = new Uint8Array(0);
    requireBytes('key', key, 32);
    requireBytes('nonce', nonce, 12);
    requireBytes('plaintext', plaintext);
    requireBytes('aad', aad);
    var otk = poly1305KeyGen(key, nonce);
    var ct = chacha20(key, 1, nonce, plaintext);
    return concatBytes([ct, aeadTag(otk, aad, ct)]);
  }

  // open(key, nonce, sealed, aad) returns the plaintext, or null if the tag
  // does not match. The page itself never opens anything; this is here so
  // the tests can check the construction in both directions.
  function open(key, nonce, sealed, aad) {
    if (aad === undefined) aad = new Uint8Array(0);
    requireBytes('key', key, 32);
    requireBytes('nonce', nonce, 12);
    requireBytes('sealed', sealed);
    requireBytes('aad', aad);
    if (sealed.length < TAG_SIZE) return null;
    var ct = sealed.subarray(0, sealed.length - TAG_SIZE);
    var tag = sealed.subarray(sealed.length - TAG_SIZE);
    var want = aeadTag(poly1305KeyGen(key, nonce), aad, ct);
    var diff = 0;
    for (var i = 0; i < TAG_SIZE; i++) diff |= want[i] ^ tag[i];
    if (diff !== 0) return null;
    return chacha20(key, 1, nonce, ct);
  }

  // ---- base64url without padding (RFC 4648 section 5) ----------------------

  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  function base64urlEncode(bytes) {
    requireBytes('bytes', bytes);
    var out = '', i = 0, n;
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
  // base64.RawURLEncoding.Strict() accepts: the URL-safe alphabet, no
  // padding, no white space, and zero bits in the unused tail. Anything else
  // throws.
  function base64urlDecode(str) {
    if (typeof str !== 'string') throw new TypeError('base64url input must be a string');
    if (str.length % 4 === 1) throw new Error('base64url: impossible length ' + str.length);
    var out = new Uint8Array(Math.floor(str.length * 3 / 4));
    var acc = 0, bits = 0, j = 0;
    for (var i = 0; i < str.length; i++) {
      var v = B64.indexOf(str.charAt(i));
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

  // ---- the hand-off envelope -------------------------------------------------
  //
  // The device shows http://<ip>:<port>/h/<id>#<key>. The page seals the
  // trimmed invitation text and posts
  //   {"v":1,"nonce":"<base64url 12 bytes>","ct":"<base64url ct||tag>"}
  // to /h/<id>, with AAD = "enroll-handoff-v1:" + id. Both sides show
  // matchCode(tag).

  var VERSION = 1;
  var AAD_PREFIX = 'enroll-handoff-v1:';
  var MAX_INVITATION_BYTES = 4096;
  var ID_BYTES = 16;
  var KEY_BYTES = 32;
  var NONCE_BYTES = 12;

  function utf8(str) {
    return new TextEncoder().encode(str);
  }

  function handoffError(reason, message) {
    var e = new Error(message);
    e.reason = reason;
    return e;
  }

  // parseId('/h/<id>') returns <id>: 22 base64url characters, 16 bytes.
  function parseId(pathname) {
    var m = /^\/h\/([A-Za-z0-9_-]+)\/?$/.exec(String(pathname));
    if (m === null) throw handoffError('bad-id', 'not a hand-off address');
    var raw;
    try {
      raw = base64urlDecode(m[1]);
    } catch (e) {
      throw handoffError('bad-id', 'the hand-off id is damaged');
    }
    if (raw.length !== ID_BYTES) throw handoffError('bad-id', 'the hand-off id is damaged');
    return m[1];
  }

  // parseKey('#<key>') returns the 32-byte key from the URL fragment.
  function parseKey(hash) {
    var s = String(hash);
    if (s.charAt(0) === '#') s = s.slice(1);
    if (s === '') throw handoffError('no-key', 'the address has no key');
    var key;
    try {
      key = base64urlDecode(s);
    } catch (e) {
      throw handoffError('bad-key', 'the key in the address is damaged');
    }
    if (key.length !== KEY_BYTES) throw handoffError('bad-key', 'the key in the address is damaged');
    return key;
  }

  // invitationBytes(text): what gets sealed, the UTF-8 of the trimmed text.
  function invitationBytes(text) {
    return utf8(String(text).trim());
  }

  function randomBytes(n) {
    var c = root.crypto;
    if (!c || typeof c.getRandomValues !== 'function') {
      throw new Error('no crypto.getRandomValues');
    }
    return c.getRandomValues(new Uint8Array(n));
  }

  function handoffAAD(id) {
    return utf8(AAD_PREFIX + id);
  }

  // matchCode(tag): the short code both sides show. The first 4 bytes of
  // the 16-byte tag as a big-endian uint32, mod 1000000, six digits with
  // leading zeros, split "123 456" (with an ordinary space).
  function matchCode(tag) {
    requireBytes('tag', tag, TAG_SIZE);
    var n = ((tag[0] << 24) >>> 0) + (tag[1] << 16) + (tag[2] << 8) + tag[3];
    var digits = String(n % 1000000);
    while (digits.length < 6) digits = '0' + digits;
    return digits.slice(0, 3) + ' ' + digits.slice(3);
  }

  // sealInvitation(key, id, text[, nonce]) seals the trimmed text for the
  // hand-off id and returns {body, code, bytes}: body is the JSON to POST,
  // code the matching code, bytes the plaintext length. The nonce comes from
  // crypto.getRandomValues unless given (tests only). Throws an Error with
  // .reason 'empty' or 'too-long' for text the device would not take.
  function sealInvitation(key, id, text, nonce) {
    requireBytes('key', key, KEY_BYTES);
    var pt = invitationBytes(text);
    if (pt.length === 0) throw handoffError('empty', 'nothing to send');
    if (pt.length > MAX_INVITATION_BYTES) {
      throw handoffError('too-long', 'the text is ' + pt.length + ' bytes, more than ' +
        MAX_INVITATION_BYTES);
    }
    if (nonce === undefined) nonce = randomBytes(NONCE_BYTES);
    requireBytes('nonce', nonce, NONCE_BYTES);
    var ct = seal(key, nonce, pt, handoffAAD(id));
    return {
      body: JSON.stringify({ v: VERSION, nonce: base64urlEncode(nonce), ct: base64urlEncode(ct) }),
      code: matchCode(ct.subarray(ct.length - TAG_SIZE)),
      bytes: pt.length
    };
  }

  // unsupported() names what this browser lacks for sealing, or returns ''.
  function unsupported() {
    var missing = [];
    if (!hasBigInt) missing.push('BigInt');
    if (typeof TextEncoder !== 'function') missing.push('TextEncoder');
    if (!root.crypto || typeof root.crypto.getRandomValues !== 'function') {
      missing.push('crypto.getRandomValues');
    }
    return missing.join(', ');
  }

  var api = {
    // primitives
    chacha20Block: chacha20Block,
    chacha20: chacha20,
    poly1305: poly1305,
    poly1305KeyGen: poly1305KeyGen,
    seal: seal,
    open: open,
    base64urlEncode: base64urlEncode,
    base64urlDecode: base64urlDecode,
    // hand-off protocol
    VERSION: VERSION,
    AAD_PREFIX: AAD_PREFIX,
    MAX_INVITATION_BYTES: MAX_INVITATION_BYTES,
    parseId: parseId,
    parseKey: parseKey,
    invitationBytes: invitationBytes,
    handoffAAD: handoffAAD,
    matchCode: matchCode,
    sealInvitation: sealInvitation,
    unsupported: unsupported
  };

  root.EnrollChaCha = api;
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this);
