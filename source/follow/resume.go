package follow

import (
	"cmp"
	"fmt"
	"log/slog"

	"github.com/mailevents/mailevents/checkpoint"
)

// StoreResume returns a function that finds where to resume path in a
// checkpoint store, for GlobOptions.Resume or Options.From: nil when no
// position was committed under path.
//
// A store can hold several positions under one path, one per file that
// was followed there (each rotation starts a new file, and its key stays
// until the daemon forgets it). The one to resume is that of the newest
// file still found: the file at path, else the most recent rotated one
// (by the order described in the package documentation), since lines are
// committed in the order they are read, so a committed position in a
// newer file means the older ones were delivered to their end. Positions
// whose file is found nowhere are only used when nothing else is left;
// the follower then warns and reads the current file from 0.
func StoreResume(s *checkpoint.Store) func(path string) (*Position, error) {
	return func(path string) (*Position, error) {
		var cands []Position
		for _, k := range s.Keys() {
			if k.Path != path {
				continue
			}
			if p, ok := s.Position(k); ok {
				cands = append(cands, Position{File: k, Offset: p.Offset})
			}
		}
		switch len(cands) {
		case 0:
			return nil, nil
		case 1:
			return &cands[0], nil
		}
		rank, err := ranker(path)
		if err != nil {
			return nil, err
		}
		best := cands[0]
		for _, c := range cands[1:] {
			if cmp.Or(
				cmp.Compare(rank(c), rank(best)),
				cmp.Compare(c.Offset, best.Offset),
				cmp.Compare(c.File.Head.Len, best.File.Head.Len),
			) > 0 {
				best = c
			}
		}
		return &best, nil
	}
}

// ranker returns how recent the file of a position is: 0 when it is found
// nowhere, 1 for the oldest rotated file, and highest for the file at path.
func ranker(path string) (func(Position) int, error) {
	file, id, err := openID(path, path)
	if err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("follow %s: %w", path, err)
	}
	exists := err == nil
	if exists {
		file.Close()
	}
	rs := listRotated(path, slog.New(slog.DiscardHandler))
	closeAll(rs) // only their identities are needed
	return func(p Position) int {
		if exists && sameFile(p.File, id) && p.Offset <= id.size {
			return len(rs) + 1
		}
		return locate(rs, p.File, p.Offset) + 1
	}, nil
}
