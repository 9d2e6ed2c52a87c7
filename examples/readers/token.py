#!/usr/bin/env python3
"""token.py — the licensed application's side, in Python (standard library
only): read enroll's credentials file and get an access token with the
OAuth 2.0 client credentials grant. Prints the access token.

    token.py [CREDENTIALS_FILE]

The file: the argument, else $ENROLL_CREDENTIALS, else the one systemd's
LoadCredential=enroll:/var/lib/enroll/credentials.json hands the service
($CREDENTIALS_DIRECTORY/enroll), else /var/lib/enroll/credentials.json.
$ENROLL_CA_FILE, as enroll's --ca-file, names PEM CA certificates to trust
besides the system's.

The client secret goes to the enrolled origin only: a token endpoint that
discovery names on another origin is refused, and no redirect is followed
(one could carry the secret elsewhere).
"""
import ipaddress
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request


def credentials_path(argv):
    if len(argv) > 1:
        return argv[1]
    if os.environ.get("ENROLL_CREDENTIALS"):
        return os.environ["ENROLL_CREDENTIALS"]
    if os.environ.get("CREDENTIALS_DIRECTORY"):
        return os.path.join(os.environ["CREDENTIALS_DIRECTORY"], "enroll")
    return "/var/lib/enroll/credentials.json"


def origin(url):
    """(scheme, host, port) of an http(s) URL without a user name, else None."""
    try:
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("https", "http") or not u.hostname or u.username is not None:
            return None
        return (u.scheme, u.hostname, u.port or {"https": 443, "http": 80}[u.scheme])
    except ValueError:  # a port that is not one
        return None


def loopback(host):
    """The name localhost or a loopback address: plain http crosses no network."""
    if host.endswith("."):
        host = host[:-1]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback and "%" not in host
    except ValueError:
        return False


def secure(server):
    """https anywhere; plain http only to this machine."""
    o = origin(server)
    return o is not None and (o[0] == "https" or loopback(o[1]))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuses every redirect: a 307 or 308 would re-send the secret."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, "redirect not followed", headers, fp)


def main(argv):
    path = credentials_path(argv)
    with open(path, encoding="utf-8") as f:
        creds = json.load(f)
    # Version 1 is the format this reader knows; fields it does not know
    # are ignored, as the format's rules say. Version 2 holds no
    # clientSecret: it is sealed to the device's TPM, and only enroll
    # unseals it.
    if creds.get("version") == 2:
        sys.exit(f"token.py: {path} is version 2: its client secret is sealed to this device's TPM, and only enroll "
                 "can unseal it; get access tokens with `enroll token` (or `enroll token --json`)")
    if creds.get("version") != 1:
        sys.exit(f"token.py: {path} is version {creds.get('version')}, not 1")
    server = creds["server"]
    if not isinstance(server, str) or not (server.isascii() and server.isprintable()) or not secure(server):
        sys.exit(f"token.py: refusing the server {server!r}: https only (http only to localhost or a loopback address)")
    server = server.rstrip("/")

    # The system's CAs, and those of ENROLL_CA_FILE besides.
    context = ssl.create_default_context()
    if os.environ.get("ENROLL_CA_FILE"):
        context.load_verify_locations(cafile=os.environ["ENROLL_CA_FILE"])
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())

    # The token endpoint: what discovery names on the same origin, else the
    # service's default path. The secret goes to the enrolled origin only.
    endpoint = server + "/user/oauth20/token"
    try:
        with opener.open(server + "/user/.well-known/openid-configuration", timeout=10) as r:
            doc = json.load(r)
        named = doc.get("token_endpoint") if isinstance(doc, dict) else None
    except (OSError, ValueError):  # urllib.error.URLError is an OSError
        named = None  # no usable discovery document: the default path
    if named:
        if not isinstance(named, str) or origin(named) != origin(server):
            sys.exit("token.py: discovery names a token endpoint on another origin; refusing")
        endpoint = named

    body = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_id": creds["clientId"],
        "client_secret": creds["clientSecret"],
    }).encode()
    req = urllib.request.Request(endpoint, data=body, headers={"Accept": "application/json"})
    try:
        with opener.open(req, timeout=30) as r:
            answer = json.load(r)
    except urllib.error.HTTPError as e:
        if 300 <= e.code < 400:
            sys.exit(f"token.py: the token endpoint answered {e.code}, a redirect; not followed: "
                     "the secret goes to the enrolled origin only")
        sys.exit(f"token.py: the token endpoint refused: {e.code}")
    except (OSError, ValueError) as e:
        sys.exit(f"token.py: the token endpoint did not answer: {getattr(e, 'reason', e)}")
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token or not token.isprintable() or not token.isascii():
        sys.exit("token.py: the token endpoint's answer holds no access_token (printable ASCII)")
    print(token)


if __name__ == "__main__":
    main(sys.argv)
