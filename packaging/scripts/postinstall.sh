#!/bin/sh
# Package postinstall (deb postinst, rpm %post) of mailevents.
# deb: "configure [OLD-VERSION]" (OLD-VERSION set on upgrade);
# rpm: "1" on install, "2" or more on upgrade.
#
# Creates the system user and its directories, tells systemd about the unit,
# and on upgrade restarts a running daemon on the new binary. It never
# enables or starts the service on a fresh install: the administrator
# configures it first.
set -e

upgrade=""
case "$1" in
configure) [ -z "$2" ] || upgrade=1 ;;
1) ;;
[0-9]*) upgrade=1 ;;
*) exit 0 ;; # abort-upgrade, abort-remove, …: nothing was undone
esac

# The user mailevents, in group adm (reads /var/log/mail.log), as
# /usr/lib/sysusers.d/mailevents.conf says; by hand where systemd-sysusers
# is missing (a container, a system without systemd).
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers /usr/lib/sysusers.d/mailevents.conf
else
	nologin=/usr/sbin/nologin
	[ -x "$nologin" ] || nologin=/sbin/nologin
	getent group mailevents >/dev/null || groupadd --system mailevents
	getent group adm >/dev/null || groupadd --system adm
	if ! getent passwd mailevents >/dev/null; then
		useradd --system --gid mailevents --groups adm \
			--home-dir /var/lib/mailevents --no-create-home \
			--shell "$nologin" --comment "mailevents daemon" mailevents
	fi
	case " $(id -Gn mailevents) " in
	*" adm "*) ;;
	*) usermod --append --groups adm mailevents ;;
	esac
fi

# /var/lib/mailevents and /var/log/mailevents, owned by mailevents, as
# /usr/lib/tmpfiles.d/mailevents.conf says. (The unit creates them too: a
# failure here is not worth failing the installation.)
if command -v systemd-tmpfiles >/dev/null 2>&1; then
	systemd-tmpfiles --create /usr/lib/tmpfiles.d/mailevents.conf || true
else
	install -d -o mailevents -g mailevents -m 0750 /var/lib/mailevents /var/log/mailevents || true
fi

# systemd is running (not a chroot, an image build or a container without
# it): load the new or changed unit.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	if [ -n "$upgrade" ]; then
		# Only if it runs: a stopped daemon stays stopped.
		systemctl try-restart mailevents.service || true
	fi
fi

if [ -z "$upgrade" ]; then
	cat <<'MSG'
mailevents: installed, not enabled. Edit /etc/mailevents/mailevents.toml,
check it with `mailevents check`, then `systemctl enable --now mailevents`.
MSG
fi
exit 0
