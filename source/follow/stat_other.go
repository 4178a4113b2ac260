//go:build !unix

package follow

import "io/fs"

// devInode lets the package build elsewhere; Open then fails, because a
// path alone cannot tell a rotated file from its successor.
func devInode(fs.FileInfo) (dev, ino uint64, ok bool) { return 0, 0, false }
