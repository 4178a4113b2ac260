// Package packaging holds what the mailevents .deb and .rpm install besides
// the binary — the systemd unit, sysusers.d and tmpfiles.d snippets, the
// logrotate rules, the default configuration and environment, the Dovecot
// and Cyrus snippets — and the nfpm configuration that builds them
// (scripts/build-packages). It has no Go code of its own; its tests check
// that these files agree with each other and with the daemon, and, as root
// on Debian, build, install, upgrade and purge the .deb.
package packaging
