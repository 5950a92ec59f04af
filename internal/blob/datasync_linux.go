package blob

import (
	"os"
	"syscall"
)

// datasync makes a file's content durable: fdatasync flushes the data and
// the metadata needed to read it back (its size), not its times, which
// saves a journal write per photo. The rename that follows is made
// durable by the directory's fsync.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
