package checkpoint

import "cmp"

// Resume identifies the file now at path and returns its key and the
// position to resume it at, if one was committed for this file.
//
// An exact key match is not enough: a file identified while it was shorter
// than HeadBytes has a shorter head than it has now, and log rotation by
// rename gives the same file a new path. So Resume accepts a committed entry
// with the same device and inode whose head matches the file's first bytes
// and whose offset is within the file (a smaller file was truncated, and its
// old offset means nothing). The entry is then moved to the current key,
// which the caller uses for its commits from now on; its longer head makes
// later matches stronger.
//
// ok is false when no entry matches: the file is new to the checkpoint.
func (s *Store) Resume(path string) (key FileKey, pos Position, ok bool, err error) {
	id, err := identify(path)
	if err != nil {
		return FileKey{}, Position{}, false, err
	}
	key = id.key
	s.mu.Lock()
	defer s.mu.Unlock()
	if pos, ok := s.files[key]; ok && pos.Offset <= id.size {
		return key, pos, true, nil
	}
	var best FileKey
	found := false
	for k, p := range s.files {
		if k.Dev != key.Dev || k.Inode != key.Inode || p.Offset > id.size || !k.Head.matches(id.head) {
			continue
		}
		// More than one match means stale entries; the longest head is the
		// strongest evidence, then the same path, then the furthest offset.
		if !found || betterMatch(k, p, best, s.files[best], path) {
			best, found = k, true
		}
	}
	if !found {
		// An entry under this very key whose offset lies beyond the end of
		// the file is of a truncated file; drop it, or the caller's first
		// commits would be refused as moving backwards.
		if _, stale := s.files[key]; stale && !s.closed {
			delete(s.files, key)
			s.gen++
		}
		return key, Position{}, false, nil
	}
	pos = s.files[best]
	if !s.closed { // a closed store reports but does not change
		delete(s.files, key) // stale if present: its offset is beyond the end
		delete(s.files, best)
		s.files[key] = pos
		s.gen++
	}
	return key, pos, true, nil
}

func betterMatch(k FileKey, p Position, best FileKey, bp Position, path string) bool {
	samePath := func(k FileKey) int {
		if k.Path == path {
			return 1
		}
		return 0
	}
	return cmp.Or(
		cmp.Compare(k.Head.Len, best.Head.Len),
		cmp.Compare(samePath(k), samePath(best)),
		cmp.Compare(p.Offset, bp.Offset),
		-compareKeys(k, best), // a fixed order, so map iteration order cannot change the answer
	) > 0
}
