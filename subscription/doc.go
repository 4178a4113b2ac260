// Package subscription is the per-sink notification subscription of RFC 5423
// §3: it turns groups of related events on and off, drops large or
// sensitive parameters, and stamps the tags a subscriber dispatches on.
// Every sink has its own; one input feeds several sinks with different ones.
//
// An admin writes it under the sink:
//
//	[[sink]]
//	type = "kafka"
//	# ...
//	[sink.subscription]
//	groups            = ["message", "flags"]
//	exclude_types     = ["FlagsClear"]
//	users             = ["*@example.org"]
//	exclude_users     = ["spamtrap@example.org"]
//	exclude_mailboxes = ["Junk", "Trash", "Trash/**"]
//	suppress          = ["vnd.mailevents.subject", "vnd.mailevents.from"]
//	tags              = ["audit"]
//	flag_events       = "flags-only"
//
// Every key is optional; an empty subscription delivers every event as
// mapped.
//
// # Which events
//
// groups and types form one include list: an event passes when its group
// (message, quota, flags, access, mailbox, subscription, as Cyrus's
// event_groups names them) or its type is listed; when both are empty every
// type passes. exclude_groups and exclude_types then drop events, and an
// exclusion always wins over an inclusion of the same thing, so
// groups = ["flags"] with exclude_types = ["FlagsClear"] means "flags
// without FlagsClear". Types are spelled as RFC 5423 does (case-sensitive)
// or are this project's vendor types (vnd.mailevents.LoginFailed, in group
// access). Type rules see the type as delivered, after flag_events, so
// naming MessageRead or MessageTrash together with "flags-only" is an error.
//
// users match the event's user parameter; mailboxes match the mailbox name
// in its uri, decoded (percent-escapes undone, UTF-8) and relative to the
// owner's namespace ("INBOX", "Archive/2024", not "user/alice/..."). The
// rule for both: an event that lacks the value (a Login has no mailbox, a
// Cyrus expiry may have no user) matches no include pattern, so a non-empty
// include list drops it, and no exclude pattern, so exclusions keep it. A
// MailboxRename is matched by its new name, the one in its uri.
//
// Patterns are Go's path.Match globs, case-sensitive: "*" is any run of
// characters but "/", "?" one character but "/", "[a-z]" and "[^a-z]" a
// class, "\" escapes. "/" is the IMAP hierarchy separator as URLs carry it,
// so "Archive/*" matches "Archive/2024" but neither "Archive" nor
// "Archive/2024/Q1". Mailbox patterns add "**": "Archive/**" matches every
// mailbox below Archive, at any depth (list "Archive" as well for Archive
// itself), and "**" alone every mailbox. A server whose separator is "."
// shows it in the URL, and "*" then crosses levels.
//
// # How they are changed
//
// suppress drops the named parameters (RFC 5423 or vnd. names, e.g.
// messageContent, envelope, vnd.mailevents.subject). A parameter that some
// delivered type cannot be valid without (uri; uidset; flagNames;
// mailboxID, oldMailboxID) is refused, naming those types; excluding them
// makes it allowed, e.g. suppress = ["uidset"] with groups = ["access"].
// "event" is the type, not a parameter, and cannot be suppressed.
//
// tags are added to the RFC 5423 tags parameter, a comma-separated list:
// after the tags an event already has, without repeating one. A tag must
// be non-empty UTF-8 without commas, control characters or edge spaces.
// Suppressing "tags" as well replaces upstream tags by these.
//
// flag_events = "rfc-specific" (the default) delivers flag changes as the
// mapper emits them: \Seen set is MessageRead and \Deleted set is
// MessageTrash (RFC 5423 §4.2), other flags FlagsSet. "flags-only" turns
// MessageRead into FlagsSet with flagNames \Seen and MessageTrash into
// FlagsSet \Deleted, keeping every other parameter. One change that sets
// \Seen and $Label1 together then reaches the sink as two FlagsSet events,
// as the mapper split it. Only this direction exists: going back would
// split one FlagsSet ("\Deleted \Seen $Label1") into up to three events,
// which one-in-one-out filtering cannot do, and a FlagsSet the mapper
// emits while not knowing the flags before ("unknown-before") does not
// show that \Seen was just set; an admin who wants RFC-specific events
// leaves the mapper's plain FlagsSet option off.
//
// # Dead letters
//
// Dead letters are rejected lines, not events: they have no type, user or
// uri. A dead-letter sink's subscription must therefore be empty; the
// config check enforces it with Filter.IsZero.
package subscription
