package event_test

import (
	"encoding/json"
	"testing"

	"github.com/mailevents/mailevents/event"
)

func BenchmarkEncode(b *testing.B) {
	for _, ty := range []event.Type{event.MessageNew, event.FlagsSet, event.Login} {
		e := sample(ty)
		b.Run(string(ty), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 2048)
			for b.Loop() {
				buf = e.AppendJSON(buf[:0])
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkBuildAndEncode is what the pipeline pays per event: setting the
// parameters a Dovecot save line gives, stamping the id, and encoding.
func BenchmarkBuildAndEncode(b *testing.B) {
	line := []byte("Jul  2 13:49:31 mail dovecot: lmtp(alice@example.org)<12345><Sessi+0n:R2>: save: box=INBOX, uid=258220, msgid=<a@b>, size=220")
	buf := make([]byte, 0, 2048)
	u := message("INBOX", 0, 258220)
	b.ReportAllocs()
	for b.Loop() {
		e := event.New(event.MessageNew)
		e.SetTimestamp(when, 0)
		e.SetString(event.Service, "lmtp")
		e.SetURL(event.URI, u)
		e.SetUIDSet(event.NewUIDSet(258220))
		e.SetString(event.User, "alice@example.org")
		e.SetInt(event.MessageSize, 220)
		e.SetString(event.ID, event.ComputeID(line, 0, event.MessageNew))
		e.Set(event.Source, event.SourceFile("/var/log/mail.log", 123456))
		e.SetString(event.Server, "dovecot")
		e.SetString(event.Session, "Sessi+0n:R2")
		buf = e.AppendJSON(buf[:0])
	}
}

func BenchmarkValidate(b *testing.B) {
	e := sample(event.FlagsSet)
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComputeID(b *testing.B) {
	line := []byte("Jul  2 13:49:31 mail dovecot: lmtp(alice@example.org)<12345><Sessi+0n:R2>: save: box=INBOX, uid=258220, msgid=<a@b>, size=220")
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		_ = event.ComputeID(line, 0, event.MessageNew)
	}
}

// BenchmarkEncodeBaselineJSON encodes the same events with encoding/json
// (a map, as a generic encoder would see them), the same-run baseline for
// BenchmarkEncode.
func BenchmarkEncodeBaselineJSON(b *testing.B) {
	for _, ty := range []event.Type{event.MessageNew, event.FlagsSet, event.Login} {
		e := sample(ty)
		m := map[string]any{"event": string(ty)}
		for p, v := range e.All() {
			if v.Kind() == event.KindInt {
				m[string(p)] = v.Int()
			} else {
				m[string(p)] = v.Str()
			}
		}
		b.Run(string(ty), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSetParams is the building part of BenchmarkBuildAndEncode without
// the values' allocations: setting a typical event's parameters, mostly in
// output order as the mappers do, the pipeline's vendor ones after them, and
// asking for those the sinks key on.
func BenchmarkSetParams(b *testing.B) {
	uri := event.URLValue(message("INBOX", 0, 258220))
	uid := event.UIDValue(258220)
	src := event.SourceFile("/var/log/mail.log", 123456)
	b.ReportAllocs()
	for b.Loop() {
		e := event.New(event.MessageNew)
		e.SetString(event.Timestamp, "2024-12-31T06:56:17.784598+01:00")
		e.SetString(event.Service, "lmtp")
		e.SetString(event.ClientIP, "192.0.2.1")
		e.Set(event.URI, uri)
		e.Set(event.UIDSetParam, uid)
		e.SetInt(event.PID, 12345)
		e.SetString(event.User, "alice@example.org")
		e.SetInt(event.MessageSize, 220)
		e.SetString("vnd.dovecot.msgid", "<a@b>")
		e.SetString(event.Session, "Sessi+0n:R2")
		e.SetString(event.ID, "25e5741fc4b94f82cfa1b32b87024f06")
		e.Set(event.Source, src)
		e.SetString(event.Server, "dovecot")
		_ = e.GetString(event.User)
		_ = e.GetString(event.ID)
		_ = e.GetString(event.URI)
		e.Release()
	}
}

// BenchmarkValidateMessage validates the event BenchmarkSetParams builds.
func BenchmarkValidateMessage(b *testing.B) {
	e := event.New(event.MessageNew)
	e.SetTimestamp(when, 6)
	e.SetString(event.Service, "lmtp")
	e.SetString(event.ClientIP, "192.0.2.1")
	e.SetURL(event.URI, message("INBOX", 0, 258220))
	e.Set(event.UIDSetParam, event.UIDValue(258220))
	e.SetInt(event.PID, 12345)
	e.SetString(event.User, "alice@example.org")
	e.SetInt(event.MessageSize, 220)
	e.SetString(event.ID, "25e5741fc4b94f82cfa1b32b87024f06")
	e.Set(event.Source, event.SourceFile("/var/log/mail.log", 123456))
	e.SetString(event.Server, "dovecot")
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
