#!/bin/sh
# Package preremove (deb prerm, rpm %preun) of mailevents.
# deb: "remove" on removal, "upgrade NEW-VERSION" on upgrade;
# rpm: "0" on removal, "1" or more on upgrade.
#
# On removal: stop the daemon (it saves its checkpoint) and disable it, while
# the unit file still exists. On upgrade nothing: postinstall restarts it.
set -e

case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl stop mailevents.service || true
fi
# Works without a running systemd too (it only removes symlinks).
if command -v systemctl >/dev/null 2>&1; then
	systemctl --no-reload disable mailevents.service >/dev/null 2>&1 || true
fi
exit 0
