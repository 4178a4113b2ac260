//go:build unix

package follow

import (
	"io/fs"
	"syscall"
)

func devInode(fi fs.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	// Dev is uint32 on some Unix ports, so convert rather than assign.
	return uint64(st.Dev), uint64(st.Ino), true
}
