#!/bin/sh
# After removing enroll (.deb postrm, .rpm %postun).
#
# /var/lib/enroll is never removed, not even by `dpkg --purge`: it holds
# this device's client credentials, whose secret the service showed once
# and cannot give again. The package does not own the directory (enroll and
# the unit's StateDirectory= create it), so dpkg and rpm leave it alone;
# on a purge (.deb) or an erase (.rpm, which has no purge) this says so.
set -e
case "$1" in
remove | purge | 0)
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl daemon-reload >/dev/null 2>&1 || true
	fi
	;;
esac
case "$1" in
purge | 0)
	if [ -d /var/lib/enroll ]; then
		cat <<'NOTE'
enroll: /var/lib/enroll was kept. It holds this device's client credentials
(the secret cannot be had again). To remove them for good, by hand:
  rm -rf /var/lib/enroll
The device client stays registered with the service until an administrator
removes it there.
NOTE
	fi
	;;
esac
exit 0
