#!/usr/bin/env bash
# vendor.sh: vendors the ChaCha20-Poly1305 of @noble/ciphers for the phone
# hand-off page (page/seal.mjs imports it; the page is served without a
# bundler, so the files are the package's own ES modules, unchanged).
#
#   ./vendor.sh          fetch the pinned version with npm, verify it, and
#                        (re)write page/vendor/noble-ciphers/ and its manifest
#   ./vendor.sh --check  fetch and verify the same way, change nothing, and
#                        fail unless the committed files are exactly those
#
# What it verifies: the registry's dist.integrity for VERSION is the one
# pinned below (a republished or substituted tarball stops it), the tarball
# npm fetched hashes to it (sha512, computed here, not only by npm), and the
# tarball's package.json names this package and version. It copies the
# module the page imports (ENTRY), every module that one imports in turn
# (relative imports only; any other import stops it), the package.json next
# to them (its "type": "module" lets node load them for the tests) and the
# LICENSE, then writes the manifest: version, integrity and the SHA-256 of
# every copied file. TestVendoredNobleCiphers checks the files against the
# manifest and this script's pins against the manifest, so the vendored
# files are changed by running this script, never by hand.
#
# To upgrade: set VERSION and INTEGRITY (npm view @noble/ciphers@X.Y.Z
# dist.integrity; check it against the release's provenance), adjust ENTRY if
# the package moved its ES modules, run it, then go test ./qr/handoff/...
set -euo pipefail
cd "$(dirname "$0")"

PACKAGE=@noble/ciphers
VERSION=1.0.0
INTEGRITY=sha512-wH5EHOmLi0rEazphPbecAzmjd12I6/Yv/SiHdkA9LSycsQk7RuuTp7am5/o62qYr0RScE7Pc9icXGBbsr6cesA==
ENTRY=esm/chacha.js
DEST=page/vendor/noble-ciphers
MANIFEST=page/vendor/noble-ciphers.manifest.json

check=false
case "${1:-}" in
"") ;;
--check) check=true ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
for tool in npm node tar; do
	command -v "$tool" >/dev/null || { echo "vendor.sh: $tool is missing" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== $PACKAGE@$VERSION: the registry's integrity"
registry=$(cd "$tmp" && npm view "$PACKAGE@$VERSION" dist.integrity)
tarball_url=$(cd "$tmp" && npm view "$PACKAGE@$VERSION" dist.tarball)
if [ "$registry" != "$INTEGRITY" ]; then
	echo "vendor.sh: the registry says $registry for $PACKAGE@$VERSION, pinned is $INTEGRITY" >&2
	exit 1
fi

echo "== npm pack $PACKAGE@$VERSION"
# A cache of its own: the tarball comes from the registry, not from a cache
# this script did not fill.
(cd "$tmp" && npm pack "$PACKAGE@$VERSION" --ignore-scripts --cache "$tmp/npm-cache" \
	--pack-destination "$tmp" --json >"$tmp/pack.json")
tgz=$(node -e 'const p = require(process.argv[1]); if (p.length !== 1) throw new Error("npm pack made " + p.length + " tarballs"); console.log(p[0].filename)' "$tmp/pack.json")
tgz="$tmp/${tgz##*/}"
got=$(node -e '
const fs = require("fs"), crypto = require("crypto");
console.log("sha512-" + crypto.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));
' "$tgz")
if [ "$got" != "$INTEGRITY" ]; then
	echo "vendor.sh: $tgz hashes to $got, want $INTEGRITY" >&2
	exit 1
fi
echo "integrity ok: $got"

mkdir "$tmp/x" "$tmp/out"
tar -xzf "$tgz" -C "$tmp/x" --no-same-owner --no-same-permissions
pkg="$tmp/x/package"
node -e '
const p = require(process.argv[1]);
if (p.name !== process.argv[2] || p.version !== process.argv[3]) {
  throw new Error("the tarball holds " + p.name + "@" + p.version);
}
if (p.license !== "MIT") throw new Error("license " + p.license + ", not MIT");
' "$pkg/package.json" "$PACKAGE" "$VERSION"

# The modules ENTRY needs, found by following its imports. Only relative
# imports of files in ENTRY's directory are allowed: the page has no bundler
# and no import map to resolve anything else.
node -e '
const fs = require("fs"), path = require("path");
const dir = path.dirname(process.argv[1]);
const todo = [path.basename(process.argv[1])], seen = new Set();
// Statements start a line; "import ... from" in a doc comment does not.
const re = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["\x27]([^"\x27]+)["\x27]|^\s*import\s*["\x27]([^"\x27]+)["\x27]|\bimport\s*\(/gm;
while (todo.length > 0) {
  const f = todo.pop();
  if (seen.has(f)) continue;
  seen.add(f);
  const src = fs.readFileSync(path.join(dir, f), "utf8");
  for (const m of src.matchAll(re)) {
    const spec = m[1] || m[2];
    if (spec === undefined) throw new Error(f + ": a dynamic import()");
    if (!/^\.\/[A-Za-z0-9_-]+\.js$/.test(spec)) throw new Error(f + ": imports " + spec);
    todo.push(spec.slice(2));
  }
}
console.log([...seen].sort().join("\n"));
' "$pkg/$ENTRY" >"$tmp/modules"
entry_dir=$(dirname "$pkg/$ENTRY")
while IFS= read -r f; do
	install -m 0644 "$entry_dir/$f" "$tmp/out/$f"
done <"$tmp/modules"
[ -f "$entry_dir/package.json" ] || { echo "vendor.sh: no package.json beside $ENTRY" >&2; exit 1; }
install -m 0644 "$entry_dir/package.json" "$tmp/out/package.json"
node -e 'if (require(process.argv[1]).type !== "module") throw new Error(process.argv[1] + " does not say type: module")' "$tmp/out/package.json"
[ -f "$pkg/LICENSE" ] || { echo "vendor.sh: the package has no LICENSE" >&2; exit 1; }
install -m 0644 "$pkg/LICENSE" "$tmp/out/LICENSE"

node -e '
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const [out, pkg, version, tarball, integrity, entry] = process.argv.slice(1);
const files = {};
for (const f of fs.readdirSync(out).sort()) {
  files[f] = crypto.createHash("sha256").update(fs.readFileSync(path.join(out, f))).digest("hex");
}
const m = {
  comment: "Written by qr/handoff/vendor.sh; do not edit. TestVendoredNobleCiphers checks vendor/noble-ciphers against it.",
  package: pkg, version, tarball, integrity, entry: path.basename(entry), files,
};
process.stdout.write(JSON.stringify(m, null, 2) + "\n");
' "$tmp/out" "$PACKAGE" "$VERSION" "$tarball_url" "$INTEGRITY" "$ENTRY" >"$tmp/manifest.json"

if $check; then
	echo "== comparing with $DEST and $MANIFEST"
	if ! diff -r "$tmp/out" "$DEST" || ! diff "$tmp/manifest.json" "$MANIFEST"; then
		echo "vendor.sh: the committed files are not those of $PACKAGE@$VERSION; run ./vendor.sh" >&2
		exit 1
	fi
	echo "ok: $DEST is $PACKAGE@$VERSION as published"
	exit 0
fi

rm -rf "$DEST"
mkdir -p "$DEST"
cp "$tmp/out/"* "$DEST/"
cp "$tmp/manifest.json" "$MANIFEST"
echo "== wrote $DEST ($(tr '\n' ' ' <"$tmp/modules")package.json LICENSE) and $MANIFEST"
