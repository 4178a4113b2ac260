package event_test

import (
	"fmt"

	"github.com/mailevents/mailevents/event"
)

func ExampleURL_String() {
	u := event.URL{
		User:        "alice@example.org",
		Host:        "imap.example.org",
		Mailbox:     "Entwürfe/2024 Q1",
		UIDValidity: 1424683682,
		UID:         7,
	}
	fmt.Println(u.String())
	fmt.Println(event.URL{Host: "::1", Port: 993, Mailbox: "INBOX"})
	// Output:
	// imap://alice%40example.org@imap.example.org/Entw%C3%BCrfe/2024%20Q1;UIDVALIDITY=1424683682/;UID=7
	// imap://[::1]:993/INBOX
}

func ExampleParseURL() {
	// Cyrus IMAP leaves the "@" of the user unencoded.
	u, err := event.ParseURL("imap://john@example.org@imap.example.org/INBOX;UIDVALIDITY=1424683682")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("user=%s host=%s mailbox=%s uidvalidity=%d\n", u.User, u.Host, u.Mailbox, u.UIDValidity)
	fmt.Println(u)

	_, err = event.ParseURL("imap://imap.example.org/;UID=5")
	fmt.Println(err)
	// Output:
	// user=john@example.org host=imap.example.org mailbox=INBOX uidvalidity=1424683682
	// imap://john%40example.org@imap.example.org/INBOX;UIDVALIDITY=1424683682
	// event: invalid IMAP URL "imap://imap.example.org/;UID=5": UID without a mailbox
}

func ExampleParseUIDSet() {
	s, err := event.ParseUIDSet("9,5:3,4")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s, s.Len(), s.Contains(4), s.Contains(6))

	_, err = event.ParseUIDSet("1,*")
	fmt.Println(err)
	// Output:
	// 3:5,9 4 true false
	// event: invalid UID set "1,*": element 2 "*": "*" is not allowed, only concrete UIDs
}

func ExampleUIDSet_Add() {
	// One UID per log line, usually ascending.
	var s event.UIDSet
	for _, uid := range []uint32{101, 102, 103, 107, 104} {
		s.Add(uid)
	}
	fmt.Println(s)
	// Output: 101:104,107
}
