#!/bin/sh
# Package postremove (deb postrm, rpm %postun) of mailevents.
# deb: "remove", "purge", "upgrade", …; rpm: "0" on removal, "1" or more on
# upgrade.
#
# After removal systemd forgets the unit. Purge (deb) also removes the
# checkpoint in /var/lib/mailevents (the package's configuration files go
# with dpkg's own purge); the events in /var/log/mailevents are the
# administrator's data and stay, the directory goes only when empty. The
# user mailevents stays: files it owns may remain, and a reused uid would
# inherit them.
set -e

case "$1" in
remove | purge | 0) ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
if [ "$1" = purge ]; then
	rm -rf /var/lib/mailevents
	rmdir /var/log/mailevents 2>/dev/null || true
fi
exit 0
