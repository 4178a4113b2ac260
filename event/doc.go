// Package event is the RFC 5423 vocabulary that every other package exchanges:
// the event types, the parameter names with the RFC's spelling, the Event value,
// the rules the RFC states as MUST (Validate), and the one JSON encoding of the
// output format v1.
//
// The output format has the shape of Cyrus IMAP's native event notifications so
// that consumers written for Cyrus read ours unchanged: one JSON object per event,
// "event" first, then the RFC parameters in the order Cyrus's mboxevent.c emits
// them, then vendor ("vnd.") parameters sorted by name, and messageContent last
// (Cyrus puts it last so that a consumer can truncate it cheaply).
package event
