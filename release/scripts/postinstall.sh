#!/bin/sh
# After installing or upgrading enroll (.deb postinst, .rpm %post): let a
# running systemd see the new or changed enroll-first-boot.service. The unit
# is not enabled here: an image builder enables it when the image is meant
# to enroll on its first boot (systemctl enable enroll-first-boot.service).
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
