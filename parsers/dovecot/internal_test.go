package dovecot

import (
	"strings"
	"testing"
)

// TestFieldKeyAt holds the switch in fieldKeyAt to the plain definition:
// the first key of mailLogKeys that s starts with, followed by '='.
func TestFieldKeyAt(t *testing.T) {
	want := func(s string) int {
		for i, k := range mailLogKeys {
			if strings.HasPrefix(s, k+"=") {
				return i
			}
		}
		return -1
	}
	inputs := []string{"", "s", "f", "s=", "f=", "si=", "su=", "fl=", "fr=", "sx=1", "fx=1", "x=1"}
	for _, k := range mailLogKeys {
		for n := 0; n <= len(k); n++ {
			inputs = append(inputs, k[:n], k[:n]+"=", k[:n]+"=x", k[:n]+"x=", "x"+k[:n]+"=")
		}
	}
	for _, s := range inputs {
		if got := fieldKeyAt(s); got != want(s) {
			t.Errorf("fieldKeyAt(%q) = %d, want %d", s, got, want(s))
		}
	}
}

// TestDisconnectKindFold holds disconnectKind's ASCII case folding to the
// strings.ToLower matching it replaces, including reasons whose case
// mapping is not ASCII's (U+0130 lowers to 'i', U+212A to 'k').
func TestDisconnectKindFold(t *testing.T) {
	want := func(reason string) string {
		r := strings.ToLower(reason)
		switch {
		case strings.HasPrefix(r, "logged out"):
			return DisconnectGraceful
		case strings.Contains(r, "inactivity"), strings.Contains(r, "timeout"), strings.Contains(r, "timed out"):
			return DisconnectTimeout
		case strings.Contains(r, "shutting down"):
			return DisconnectShutdown
		case strings.HasPrefix(r, "connection closed"), strings.HasPrefix(r, "disconnected in idle"),
			strings.Contains(r, "eof"), strings.Contains(r, "connection reset"):
			return DisconnectAbort
		}
		return DisconnectOther
	}
	for _, reason := range []string{
		"", "Logged out", "LOGGED OUT", "logged ou", "Logged out.", "Disconnected for inactivity",
		"Inactivity", "x TIMEOUT", "Timed Out", "Server shutting down.", "Connection closed",
		"Connection closed (IDLE running for 0.001 secs)", "Disconnected in IDLE", "read(size=1026): EOF",
		"Connection reset by peer", "Connection Reset", "T\u0130MEOUT", "\u0130nactivity", "shutt\u0130ng down",
		"\u212Aeof", "e\u00d6f", "\xffeof", "other", "Disconnected: Logged out",
	} {
		if got := disconnectKind(reason); got != want(reason) {
			t.Errorf("disconnectKind(%q) = %s, want %s", reason, got, want(reason))
		}
	}
}
