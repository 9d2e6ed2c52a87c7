#!/bin/sh
# Before removing enroll (.deb prerm "remove", .rpm %preun with 0 left):
# if someone enabled enroll-first-boot.service, disable it, so that no
# link to a unit that is gone stays behind. It is not stopped: a first-boot
# enrollment under way finishes storing its credentials. Upgrades keep it.
set -e
case "$1" in
remove | 0)
	if command -v systemctl >/dev/null 2>&1 &&
		systemctl --quiet is-enabled enroll-first-boot.service >/dev/null 2>&1; then
		systemctl --no-reload disable enroll-first-boot.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
