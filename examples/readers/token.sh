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
# The client secret never appears in a command line (other users can read
# those): jq writes the request body into curl's standard input.
set -eu

file=${1:-${ENROLL_CREDENTIALS:-}}
if [ -z "$file" ] && [ -n "${CREDENTIALS_DIRECTORY:-}" ]; then
  file=$CREDENTIALS_DIRECTORY/enroll
fi
file=${file:-/var/lib/enroll/credentials.json}

# Version 1 is the format this reader knows; fields it does not know are
# ignored, as the format's rules say.
version=$(jq -r '.version' "$file")
[ "$version" = 1 ] || { echo "token.sh: $file is version $version, not 1" >&2; exit 1; }
server=$(jq -r '.server' "$file")
case $server in
https://*) ;;
http://127.*|http://localhost*|http://\[::1\]*) ;; # the emulator, on loopback
*) echo "token.sh: refusing the server $server: https only" >&2; exit 1 ;;
esac

# The token endpoint: what discovery names on the same origin, else the
# service's default path. The secret goes to the enrolled origin only.
origin=$(printf '%s\n' "$server" | sed -E 's#^([a-z]+://[^/]+).*#\1#')
endpoint=$(curl -fsS --max-time 10 "$server/user/.well-known/openid-configuration" 2>/dev/null |
  jq -r '.token_endpoint // empty' 2>/dev/null || true)
case $endpoint in
"$origin"/*) ;;
"") endpoint=$server/user/oauth20/token ;;
*) echo "token.sh: discovery names a token endpoint on another origin; refusing" >&2; exit 1 ;;
esac

set -- -fsS --max-time 30 -H 'Accept: application/json' --data-binary @-
if [ -n "${ENROLL_CA_FILE:-}" ]; then
  set -- "$@" --cacert "$ENROLL_CA_FILE"
fi
# jq -j: the body without a newline after it, which would end the secret.
answer=$(jq -j '"grant_type=client_credentials&client_id=\(.clientId|@uri)&client_secret=\(.clientSecret|@uri)"' "$file" |
  curl "$@" "$endpoint") || { echo "token.sh: the token endpoint refused or did not answer" >&2; exit 1; }
printf '%s\n' "$answer" | jq -er '.access_token'
