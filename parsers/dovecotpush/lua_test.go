package dovecotpush_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mailevents/mailevents/internal/mailtest"

	"github.com/mailevents/mailevents/parsers/dovecotpush"
	"github.com/mailevents/mailevents/source"
)

// TestLuaEscaping runs the script's handlers outside Dovecot, with bytes
// Dovecot itself never passes (it decodes headers to valid UTF-8): control
// characters, an overlong sequence, a surrogate, a code point past U+10FFFF.
// Every line must be valid JSON that this grammar reads back. It needs the
// lua5.4 interpreter (Debian package lua5.4, which make test installs); it
// fails without it unless MAILEVENTS_SKIP_LUA=1.
func TestLuaEscaping(t *testing.T) {
	lua, err := exec.LookPath("lua5.4")
	if err != nil {
		mailtest.Missing(t, err, "lua5.4 not installed", "MAILEVENTS_SKIP_LUA", "scripts/install-test-deps")
	}
	script, err := filepath.Abs("../../packaging/dovecot/mailevents-push.lua")
	if err != nil {
		t.Fatal(err)
	}
	driver := filepath.Join(t.TempDir(), "driver.lua")
	err = os.WriteFile(driver, []byte(`dovecot = {}
dofile(arg[1])
local ctx = {username = "u\255", service = "imap", session = "s", lines = {}}
dovecot_lua_notify_event_mailbox_delete(ctx, {name = "MailboxDelete",
  mailbox = "a\"b\\c\0d\31\127\195\169\255\192\175\237\160\128x\244\144\128\128"})
dovecot_lua_notify_event_message_expunge(ctx, {name = "MessageExpunge",
  mailbox = "INBOX", uid = 5.0, uid_validity = 4294967295.0})
io.write(table.concat(ctx.lines))
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lua, driver, script).Output()
	if err != nil {
		t.Fatalf("lua: %v", err)
	}
	want := []string{
		"a\"b\\c\x00d\x1f\x7fé\u00ff\u00c0\u00af\u00ed\u00a0\u0080x\u00f4\u0090\u0080\u0080",
		"INBOX",
	}
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		rec, err := dovecotpush.New().Parse(source.Line{Text: l})
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if box, _ := rec.Get(dovecotpush.FieldMailbox); box != want[i] {
			t.Errorf("mailbox %q, want %q", box, want[i])
		}
		if rec.User != "u\u00ff" {
			t.Errorf("user %q", rec.User)
		}
	}
	if uid, _ := mustRecord(t, lines[1]).Get(dovecotpush.FieldUIDValidity); uid != "4294967295" {
		t.Errorf("uid_validity %q: integral floats must be written as integers", uid)
	}
}

func mustRecord(t *testing.T, l []byte) interface{ Get(string) (string, bool) } {
	t.Helper()
	rec, err := dovecotpush.New().Parse(source.Line{Text: l})
	if err != nil {
		t.Fatal(err)
	}
	return &rec
}
