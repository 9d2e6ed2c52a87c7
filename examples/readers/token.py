#!/usr/bin/env python3
"""token.py — the licensed application's side, in Python (standard library
only): read enroll's credentials file and get an access token with the
OAuth 2.0 client credentials grant. Prints the access token.

    token.py [CREDENTIALS_FILE]

The file: the argument, else $ENROLL_CREDENTIALS, else the one systemd's
LoadCredential=enroll:/var/lib/enroll/credentials.json hands the service
($CREDENTIALS_DIRECTORY/enroll), else /var/lib/enroll/credentials.json.
"""
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

LOOPBACK = ("127.", "localhost", "[::1]")


def credentials_path(argv):
    if len(argv) > 1:
        return argv[1]
    if os.environ.get("ENROLL_CREDENTIALS"):
        return os.environ["ENROLL_CREDENTIALS"]
    if os.environ.get("CREDENTIALS_DIRECTORY"):
        return os.path.join(os.environ["CREDENTIALS_DIRECTORY"], "enroll")
    return "/var/lib/enroll/credentials.json"


def origin(url):
    u = urllib.parse.urlsplit(url)
    port = u.port or {"https": 443, "http": 80}[u.scheme]
    return (u.scheme, (u.hostname or "").lower(), port)


def main(argv):
    path = credentials_path(argv)
    with open(path, encoding="utf-8") as f:
        creds = json.load(f)
    # Version 1 is the format this reader knows; fields it does not know
    # are ignored, as the format's rules say.
    if creds.get("version") != 1:
        sys.exit(f"token.py: {path} is version {creds.get('version')}, not 1")
    server = creds["server"]
    u = urllib.parse.urlsplit(server)
    if u.scheme != "https" and not (u.scheme == "http" and u.netloc.startswith(LOOPBACK)):
        sys.exit(f"token.py: refusing the server {server}: https only")
    context = ssl.create_default_context(cafile=os.environ.get("ENROLL_CA_FILE") or None)

    # The token endpoint: what discovery names on the same origin, else the
    # service's default path. The secret goes to the enrolled origin only.
    endpoint = server + "/user/oauth20/token"
    try:
        with urllib.request.urlopen(server + "/user/.well-known/openid-configuration", timeout=10, context=context) as r:
            named = json.load(r).get("token_endpoint")
        if named:
            if origin(named) != origin(server):
                sys.exit("token.py: discovery names a token endpoint on another origin; refusing")
            endpoint = named
    except (urllib.error.URLError, ValueError):
        pass  # no usable discovery document: the default path

    body = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_id": creds["clientId"],
        "client_secret": creds["clientSecret"],
    }).encode()
    req = urllib.request.Request(endpoint, data=body, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30, context=context) as r:
        print(json.load(r)["access_token"])


if __name__ == "__main__":
    main(sys.argv)
