package cyrus_test

import (
	"testing"

	"github.com/mailevents/mailevents/parsers/cyrus"
)

func TestParseInternalMailbox(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cyrus.Mailbox
		ok   bool
	}{
		{"user.alice", cyrus.Mailbox{Owner: "alice", Name: "INBOX"}, true},
		{"user.alice.Sent", cyrus.Mailbox{Owner: "alice", Name: "Sent"}, true},
		{"user.alice.Archive.2024", cyrus.Mailbox{Owner: "alice", Name: "Archive/2024"}, true},
		{"user.john^doe.a^b", cyrus.Mailbox{Owner: "john.doe", Name: "a.b"}, true},
		{"example.com!user.bob", cyrus.Mailbox{Owner: "bob@example.com", Name: "INBOX"}, true},
		{"example.com!user.bob.Entw&APw-rfe", cyrus.Mailbox{Owner: "bob@example.com", Name: "Entwürfe"}, true},
		{"user.alice.&AOQ-&AOQ-", cyrus.Mailbox{Owner: "alice", Name: "ää"}, true},
		{"user.alice.A&-B", cyrus.Mailbox{Owner: "alice", Name: "A&B"}, true},
		{"user.alice.My Folder", cyrus.Mailbox{Owner: "alice", Name: "My Folder"}, true},
		{"user.alice.&ZeVnLIqe-", cyrus.Mailbox{Owner: "alice", Name: "日本語"}, true},
		{"shared.news", cyrus.Mailbox{Name: "shared/news"}, true},
		{"archive", cyrus.Mailbox{Name: "archive"}, true},
		{"user", cyrus.Mailbox{Name: "user"}, true},
		{"DELETED.user.alice.Work.5F3A9B21", cyrus.Mailbox{Owner: "alice", Name: "Work", Deleted: true}, true},
		{"example.com!DELETED.user.bob.5F3A9B21", cyrus.Mailbox{Owner: "bob@example.com", Name: "INBOX", Deleted: true}, true},
		{"DELETED.user.alice.Work", cyrus.Mailbox{}, false}, // no hex stamp
		{"user..alice", cyrus.Mailbox{}, false},
		{"user.alice.", cyrus.Mailbox{}, false},
		{"", cyrus.Mailbox{}, false},
		{"!user.a", cyrus.Mailbox{}, false},
		{"user.alice.&AOQ", cyrus.Mailbox{}, false},  // unterminated base64
		{"user.alice.&2D3-", cyrus.Mailbox{}, false}, // odd byte count
		{"user.alice.\xff", cyrus.Mailbox{}, false},
	} {
		got, ok := cyrus.ParseInternalMailbox(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseInternalMailbox(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseExternalMailbox(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cyrus.Mailbox
	}{
		{"user/alice", cyrus.Mailbox{Owner: "alice", Name: "INBOX"}},
		{"user/alice/Sent/2024", cyrus.Mailbox{Owner: "alice", Name: "Sent/2024"}},
		{"user/john.doe/a.b", cyrus.Mailbox{Owner: "john.doe", Name: "a.b"}},
		{"user.alice.Sent", cyrus.Mailbox{Owner: "alice", Name: "Sent"}},
		{"shared/news", cyrus.Mailbox{Name: "shared/news"}},
	} {
		got, ok := cyrus.ParseExternalMailbox(tc.in)
		if !ok || got != tc.want {
			t.Errorf("ParseExternalMailbox(%q) = %+v, %v; want %+v", tc.in, got, ok, tc.want)
		}
	}
}
