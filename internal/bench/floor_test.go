package bench_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"chuangwen/internal/bench"
)

// The upload floors do what they measure: every write of every round is
// timed and lands as a file of at least the photo's size, through the bare server
// too (each upload a slightly different photo: VaryJPEG).
func TestUploadFloors(t *testing.T) {
	ctx := context.Background()
	photo := bench.PhonePhoto(64 << 10)
	count := func(dir string) (n int) {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil && fi.Size() >= int64(len(photo)) {
					n++
				}
			}
			return nil
		})
		return n
	}
	dir := t.TempDir()
	floor := bench.DiskFloor(ctx, dir, photo, 3, 2, 0)
	if floor.Errors != 0 || floor.Requests != 6 || floor.P99 <= 0 || count(dir) != 6 {
		t.Fatalf("disk floor: %+v, %d files", floor, count(dir))
	}
	dir = t.TempDir()
	recv, err := bench.ReceiveFloor(ctx, dir, 1, [2]float64{25.04, 102.7}, photo, 3, 2, 0)
	if err != nil || recv.Errors != 0 || recv.Requests != 6 || count(dir) != 6 {
		t.Fatalf("receive floor: %+v %v, %d files", recv, err, count(dir))
	}
}
