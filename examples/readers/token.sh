#!/bin/sh
# token.sh — the licensed application's side, in shell: read enroll's
# credentials file and get an access token with the OAuth 2.0 client
# credentials grant, using only jq and curl. Prints the access token.
#
#   token.sh [CREDENTIALS_FILE]
#
# The file: the argument, else $ENROLL_CREDENTIALS, else the one systemd's
# LoadCredential=enroll:/var/lib/enroll/credentials.json hands the
# service ($CREDENTIALS_DIRECTORY/enroll), else /var/lib/enroll/credentials.json.
# $ENROLL_CA_FILE, as enroll's --ca-file, names PEM CA certificates to
# trust (curl's --cacert: instead of its default bundle).
#
# The client secret never appears in a command line (other users can read
# those): jq writes the request body into curl's standard input. It goes
# to the enrolled origin only: a token endpoint that discovery names on
# another origin is refused, and no redirect is followed (no --location,
# and -q keeps a ~/.curlrc from adding one).
set -eu
LC_ALL=C
export LC_ALL

file=${1:-${ENROLL_CREDENTIALS:-}}
if [ -z "$file" ] && [ -n "${CREDENTIALS_DIRECTORY:-}" ]; then
  file=$CREDENTIALS_DIRECTORY/enroll
fi
file=${file:-/var/lib/enroll/credentials.json}

# fetch is curl without a curlrc (-q, first), without URL globbing (-g:
# [::1] and braces are literal), http(s) only, never following a redirect.
fetch() {
  if [ -n "${ENROLL_CA_FILE:-}" ]; then
    curl -q -g --proto =http,https --cacert "$ENROLL_CA_FILE" "$@"
  else
    curl -q -g --proto =http,https "$@"
  fi
}

# Version 1 is the format this reader knows; fields it does not know are
# ignored, as the format's rules say. Version 2 holds no clientSecret: it is
# sealed to the device's TPM (enroll accept --seal tpm), and only enroll
# unseals it.
version=$(jq -r '.version' "$file")
if [ "$version" = 2 ]; then
  echo "token.sh: $file is version 2: its client secret is sealed to this device's TPM, and only enroll can unseal it; get access tokens with \`enroll token\` (or \`enroll token --json\`)" >&2
  exit 1
fi
[ "$version" = 1 ] || { echo "token.sh: $file is version $version, not 1" >&2; exit 1; }
server=$(jq -r '.server' "$file")

# https anywhere; plain http only to this machine: 127.x.y.z, localhost or
# [::1], parsed exactly (no user name: http://127.0.0.1@elsewhere/ is
# elsewhere). The same patterns as the file's JSON Schema.
octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
case $server in
*[![:print:]]*) ok= ;;
*) ok=$(printf '%s\n' "$server" | grep -E -x \
  -e 'https://[^/?#@[:space:]]+(/[^?#[:space:]]*)?' \
  -e "http://(127\\.$octet\\.$octet\\.$octet|localhost|\\[::1\\])(:[0-9]+)?(/[^?#[:space:]]*)?") || ok= ;;
esac
[ -n "$ok" ] || { echo "token.sh: refusing the server $server: https only (http only to 127.x.y.z, localhost or [::1])" >&2; exit 1; }
base=${server%/}
origin=$(printf '%s\n' "$server" | sed -E 's#^([a-z]+://[^/]+).*#\1#')

# The token endpoint: what discovery names on the same origin, else the
# service's default path. The secret goes to the enrolled origin only.
endpoint=$(fetch -fsS --max-time 10 "$base/user/.well-known/openid-configuration" 2>/dev/null |
  jq -r '.token_endpoint // empty | strings' 2>/dev/null || true)
case $endpoint in
"") endpoint=$base/user/oauth20/token ;;
*[![:print:]]*) echo "token.sh: discovery names an unusable token endpoint; refusing" >&2; exit 1 ;;
"$origin"/*) ;;
*) echo "token.sh: discovery names a token endpoint on another origin; refusing" >&2; exit 1 ;;
esac

# jq -j: the body without a newline after it, which would end the secret.
# The status code comes last, on a line of its own.
nl='
'
answer=$(jq -j '"grant_type=client_credentials&client_id=\(.clientId|@uri)&client_secret=\(.clientSecret|@uri)"' "$file" |
  fetch -sS --max-time 30 -H 'Accept: application/json' --data-binary @- -w '\n%{http_code}' "$endpoint") ||
  { echo "token.sh: the token endpoint did not answer" >&2; exit 1; }
code=${answer##*"$nl"}
body=${answer%"$nl"*}
case $code in
2??) ;;
3??)
  echo "token.sh: the token endpoint answered $code, a redirect; not followed: the secret goes to the enrolled origin only" >&2
  exit 1 ;;
*)
  why=$(printf '%s\n' "$body" | jq -r '.error // empty | strings' 2>/dev/null || true)
  case $why in *[![:print:]]*) why=? ;; esac
  echo "token.sh: the token endpoint refused: $code${why:+ ($why)}" >&2
  exit 1 ;;
esac
token=$(printf '%s\n' "$body" | jq -r '.access_token // empty | strings' 2>/dev/null || true)
case $token in
"" | *[![:print:]]*) echo "token.sh: the token endpoint's answer holds no access_token (printable ASCII)" >&2; exit 1 ;;
esac
printf '%s\n' "$token"
