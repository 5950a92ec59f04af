package workflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/blob"
	"chuangwen/internal/imaging"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// hookedBlobs wraps a blob store: it counts writes per key and opens, and
// can make an Open fail.
type hookedBlobs struct {
	blob.Store
	mu     sync.Mutex
	puts   map[string]int
	opens  int
	onOpen func(key string) error
}

func newHookedBlobs(inner blob.Store) *hookedBlobs {
	return &hookedBlobs{Store: inner, puts: map[string]int{}}
}

func (h *hookedBlobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	h.mu.Lock()
	h.puts[key]++
	h.mu.Unlock()
	return h.Store.Put(ctx, key, r, size, ct)
}

func (h *hookedBlobs) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	h.mu.Lock()
	h.opens++
	hook := h.onOpen
	h.mu.Unlock()
	if hook != nil {
		if err := hook(key); err != nil {
			return nil, 0, err
		}
	}
	return h.Store.Open(ctx, key)
}

// derivedPuts returns the writes of derived versions by key.
func (h *hookedBlobs) derivedPuts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, n := range h.puts {
		if strings.HasPrefix(k, "derived/") {
			out[k] = n
		}
	}
	return out
}

func (h *hookedBlobs) openCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.opens
}

// gpsJPEG is a phone photo carrying EXIF with a GPS position and an
// orientation (the imaging package's fixture).
func gpsJPEG(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../imaging/testdata/gps.jpg")
	if err != nil {
		t.Fatal(err)
	}
	m, err := imaging.ReadMeta(b)
	if err != nil || !m.HasGPS || !bytes.Contains(b, []byte("Exif\x00\x00")) {
		t.Fatalf("fixture gps.jpg: %+v %v (want EXIF with GPS)", m, err)
	}
	return b
}

// corruptJPEG starts like a JPEG and continues with noise.
func corruptJPEG() []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := []byte{0xFF, 0xD8, 0xFF, 0xE0}
	for range 4000 {
		b = append(b, byte(r.UintN(256)))
	}
	// noise between a JPEG's first and last markers: whole as far as the
	// intake's cheap checks can tell, undecodable for the worker
	return append(b, 0xFF, 0xD9)
}

// withBlobs gives the fixture's service a hooked blob store.
func withBlobs(f *fixture) *hookedBlobs {
	h := newHookedBlobs(f.svc.Photos.Blobs)
	f.svc.Photos = &photo.Store{Blobs: h}
	f.svc.PhotoJobs.Store = f.svc.Photos // the worker works on the same store
	return h
}

// replica is a second service over the same database and blob store.
func replica(f *fixture, blobs blob.Store) *workflow.Service {
	s := workflow.NewService(f.db, &photo.Store{Blobs: blobs}, shanghai, nil)
	s.Now = f.clk.Now
	return s
}

func (f *fixture) upload(b []byte) photo.File {
	f.t.Helper()
	p, err := f.svc.Photos.Save(bytes.NewReader(b))
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func withPhotos(ps ...photo.File) func(*workflow.NewCase) {
	return func(in *workflow.NewCase) { in.Photos = ps }
}

type photoJob struct {
	PhotoID, RunAfter, LeaseUntil int64
	Attempts                      int
	Owner, LastError              string
}

func (f *fixture) jobs() []photoJob {
	f.t.Helper()
	rows, err := f.db.Reader().Query(f.ctx, `SELECT photo_id, run_after, attempts, lease_owner, lease_until, last_error FROM photo_jobs ORDER BY photo_id`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []photoJob
	for rows.Next() {
		var j photoJob
		if err := rows.Scan(&j.PhotoID, &j.RunAfter, &j.Attempts, &j.Owner, &j.LeaseUntil, &j.LastError); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

type photoRow struct {
	ID                       int64
	Path, Large, Thumb, DErr string
	DerivedAt                int64
}

func (f *fixture) photoRows() []photoRow {
	f.t.Helper()
	rows, err := f.db.Reader().Query(f.ctx, `SELECT id, path, large_path, thumb_path, derived_at, derive_error FROM photos ORDER BY id`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []photoRow
	for rows.Next() {
		var p photoRow
		if err := rows.Scan(&p.ID, &p.Path, &p.Large, &p.Thumb, &p.DerivedAt, &p.DErr); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) readBlob(key string) []byte {
	f.t.Helper()
	rc, _, err := f.svc.Photos.Open(f.ctx, key)
	if err != nil {
		f.t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) derive(svc *workflow.Service, owner string) int {
	f.t.Helper()
	n, err := svc.PhotoJobs.Derive(f.ctx, owner)
	if err != nil {
		f.t.Fatalf("derive (%s): %v", owner, err)
	}
	return n
}

func TestPhotoQueuedWithCase(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		in := workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: f.cat4h.ID, Description: "路边暴露垃圾", RegionID: f.community1.ID,
			Photos: []photo.File{f.upload(gpsJPEG(t)), f.photo()}}
		p, err := f.svc.PrepareReport(f.ctx, f.acceptor, in)
		if err != nil {
			t.Fatal(err)
		}
		// The case's transaction fails after the photos were written: no
		// job outlives it.
		errAbort := errors.New("abort")
		err = db.WithTx(f.ctx, func(tx *store.Tx) error {
			c, err := f.svc.ReportTx(f.ctx, tx, p)
			if err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(f.ctx, `SELECT COUNT(*) FROM photo_jobs j JOIN photos p ON p.id = j.photo_id WHERE p.case_id = ?`, c.ID).Scan(&n); err != nil {
				return err
			}
			if n != 2 {
				t.Errorf("jobs inside the case's transaction = %d", n)
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatal(err)
		}
		if n := countRows(t, f, "photo_jobs"); n != 0 {
			t.Fatalf("%d jobs after the case's transaction rolled back", n)
		}
		if n := countRows(t, f, "photos"); n != 0 {
			t.Fatalf("%d photos after the case's transaction rolled back", n)
		}

		c := f.report(withPhotos(in.Photos...))
		js := f.jobs()
		if len(js) != 2 {
			t.Fatalf("jobs = %+v", js)
		}
		for _, j := range js {
			if j.RunAfter != store.Ms(start) || j.Attempts != 0 || j.Owner != "" || j.LeaseUntil != 0 {
				t.Errorf("new job = %+v", j)
			}
		}
		got := f.get(f.acceptor, c.ID)
		if len(got.Photos) != 2 || got.Photos[0].Ready || got.Photos[0].Failed || got.Photos[0].LargePath != "" {
			t.Fatalf("photos before the worker = %+v", got.Photos)
		}
		if got.Photos[0].ID != js[0].PhotoID || got.Photos[1].ID != js[1].PhotoID {
			t.Errorf("jobs %+v for photos %+v", js, got.Photos)
		}
		// Photos added by an action are queued too.
		d := f.dispatched(f.unitA)
		f.act(f.handlerA, d.ID, workflow.ActInput{Action: workflow.Acknowledge})
		f.feedback(f.unitA, d.ID)
		if n := countRows(t, f, "photo_jobs"); n != 3 {
			t.Errorf("jobs after a feedback photo = %d", n)
		}
	})
}

func TestDerivePhotosStripsMetadata(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		blobs := withBlobs(f)
		orig := gpsJPEG(t)
		up := f.upload(orig)
		if !up.Meta.HasGPS || up.Mime != imaging.MimeJPEG {
			t.Fatalf("upload = %+v", up)
		}
		c := f.report(withPhotos(up))
		f.clk.Advance(time.Second)
		if n := f.derive(f.svc, "w1"); n != 1 {
			t.Fatalf("derived %d photos", n)
		}
		ps := f.photoRows()
		if len(ps) != 1 || ps[0].DerivedAt != store.Ms(f.clk.Now()) || ps[0].DErr != "" || ps[0].Large == "" || ps[0].Thumb == "" || ps[0].Large == ps[0].Thumb {
			t.Fatalf("photo row = %+v", ps)
		}
		if ps[0].Path != up.Path || !bytes.Equal(f.readBlob(up.Path), orig) {
			t.Errorf("the private original changed")
		}
		if js := f.jobs(); len(js) != 0 {
			t.Errorf("jobs left = %+v", js)
		}
		if puts := blobs.derivedPuts(); len(puts) != 2 || puts[ps[0].Large] != 1 || puts[ps[0].Thumb] != 1 {
			t.Errorf("derived writes = %v", puts)
		}
		for _, key := range []string{ps[0].Large, ps[0].Thumb} {
			b := f.readBlob(key)
			img, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s does not decode: %v", key, err)
			}
			// The original is 64×48 stored, orientation 6: shown upright 48×64.
			if sz := img.Bounds().Size(); sz != (image.Point{X: 48, Y: 64}) {
				t.Errorf("%s is %v, want 48×64 upright", key, sz)
			}
			if bytes.Contains(b, []byte("Exif")) || bytes.Contains(b, []byte("II*\x00")) || bytes.Contains(b, []byte("MM\x00*")) {
				t.Errorf("%s carries EXIF", key)
			}
			if m, _ := imaging.ReadMeta(b); m.HasGPS || m.Orientation != 0 {
				t.Errorf("%s metadata = %+v", key, m)
			}
		}
		p, err := f.svc.Photo(f.ctx, f.acceptor, c.ID, ps[0].ID)
		if err != nil || !p.Ready || p.Failed || p.VariantKey("large") != ps[0].Large || p.VariantKey("thumb") != ps[0].Thumb || p.VariantKey("orig") != "" {
			t.Errorf("photo = %+v, %v", p, err)
		}
		// Nothing is left to do.
		if n := f.derive(f.svc, "w1"); n != 0 {
			t.Errorf("second pass derived %d", n)
		}
	})
}

// A worker that dies holding a lease keeps the job from others until the
// lease runs out; then another replica takes it over.
func TestDeriveLeaseOfCrashedWorker(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		blobs := withBlobs(f)
		f.report(withPhotos(f.upload(gpsJPEG(t))))

		// Replica A claims the job and dies before finishing: its context
		// ends while it reads the original, so it can write nothing more.
		crashing := newHookedBlobs(blobs)
		ctxA, cancelA := context.WithCancel(f.ctx)
		defer cancelA()
		crashing.onOpen = func(string) error { cancelA(); return context.Canceled }
		a := replica(f, crashing)
		if n, err := a.PhotoJobs.Derive(ctxA, "replica-a"); err == nil || n != 0 {
			t.Fatalf("crashing worker: %d, %v", n, err)
		}
		js := f.jobs()
		if len(js) != 1 || js[0].Owner != "replica-a" || js[0].Attempts != 1 || js[0].LeaseUntil <= store.Ms(f.clk.Now()) {
			t.Fatalf("job after the crash = %+v", js)
		}
		lease := js[0].LeaseUntil

		b := replica(f, blobs)
		if n := f.derive(b, "replica-b"); n != 0 {
			t.Fatalf("replica B took a leased job")
		}
		f.clk.Set(time.UnixMilli(lease - 1))
		if n := f.derive(b, "replica-b"); n != 0 {
			t.Fatalf("replica B took the job 1 ms before the lease ran out")
		}
		if ps := f.photoRows(); ps[0].DerivedAt != 0 || len(blobs.derivedPuts()) != 0 {
			t.Fatalf("derived while leased: %+v", ps)
		}
		f.clk.Set(time.UnixMilli(lease + 1))
		if n := f.derive(b, "replica-b"); n != 1 {
			t.Fatalf("replica B after the lease: %d derived", n)
		}
		ps := f.photoRows()
		if ps[0].DerivedAt != lease+1 || ps[0].DErr != "" {
			t.Errorf("photo = %+v", ps[0])
		}
		if js := f.jobs(); len(js) != 0 {
			t.Errorf("jobs left = %+v", js)
		}
		if puts := blobs.derivedPuts(); len(puts) != 2 {
			t.Errorf("derived writes = %v", puts)
		}
	})
}

// Two replicas work one queue of 20 photos at once: each photo is
// derived exactly once.
func TestDeriveTwoWorkers(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		blobs := withBlobs(f)
		src := gpsJPEG(t)
		for range 4 {
			var ps []photo.File
			for range 5 {
				ps = append(ps, f.upload(src))
			}
			f.report(withPhotos(ps...))
		}
		if n := len(f.jobs()); n != 20 {
			t.Fatalf("%d jobs queued", n)
		}
		workers := []*workflow.Service{replica(f, blobs), replica(f, blobs)}
		counts := make([]int, len(workers))
		errs := make([]error, len(workers))
		var wg sync.WaitGroup
		begin := make(chan struct{})
		for i, w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-begin
				counts[i], errs[i] = w.PhotoJobs.Derive(f.ctx, fmt.Sprintf("worker-%d", i))
			}()
		}
		close(begin)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("worker %d: %v", i, err)
			}
		}
		t.Logf("worker shares: %v", counts)
		if counts[0]+counts[1] != 20 {
			t.Errorf("workers derived %v photos, want 20 in all", counts)
		}
		puts := blobs.derivedPuts()
		if len(puts) != 40 {
			t.Errorf("%d derived objects written, want 40", len(puts))
		}
		for k, n := range puts {
			if n != 1 {
				t.Errorf("%s written %d times", k, n)
			}
		}
		seen := map[string]bool{}
		for _, p := range f.photoRows() {
			if p.DerivedAt == 0 || p.DErr != "" || puts[p.Large] != 1 || puts[p.Thumb] != 1 || seen[p.Large] {
				t.Errorf("photo %+v", p)
			}
			seen[p.Large] = true
		}
		if js := f.jobs(); len(js) != 0 {
			t.Errorf("jobs left = %+v", js)
		}
	})
}

// A file that looks like a JPEG but is noise fails for good, at once.
func TestDeriveCorruptPhoto(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		blobs := withBlobs(f)
		bad := f.upload(corruptJPEG())
		if bad.Mime != imaging.MimeJPEG {
			t.Fatalf("upload = %+v", bad)
		}
		good := f.upload(gpsJPEG(t))
		c := f.report(withPhotos(bad, good))
		if _, err := f.svc.PhotoJobs.Derive(f.ctx, "w1"); err != nil {
			t.Fatal(err)
		}
		ps := f.photoRows()
		if ps[0].DErr == "" || ps[0].DerivedAt != 0 || ps[0].Large != "" {
			t.Errorf("corrupt photo = %+v", ps[0])
		}
		if ps[1].DErr != "" || ps[1].DerivedAt == 0 {
			t.Errorf("good photo of the same case = %+v", ps[1])
		}
		if js := f.jobs(); len(js) != 0 {
			t.Fatalf("jobs left: %+v (a corrupt photo must not be retried)", js)
		}
		opens := blobs.openCount()
		for range 3 {
			f.clk.Advance(time.Hour)
			if n := f.derive(f.svc, "w1"); n != 0 {
				t.Errorf("later pass derived %d", n)
			}
		}
		if blobs.openCount() != opens {
			t.Errorf("the corrupt original was read again")
		}
		if puts := blobs.derivedPuts(); len(puts) != 2 {
			t.Errorf("derived writes = %v", puts)
		}
		got := f.get(f.acceptor, c.ID)
		if !got.Photos[0].Failed || got.Photos[0].Ready || got.Photos[1].Failed || !got.Photos[1].Ready {
			t.Errorf("photos = %+v", got.Photos)
		}
	})
}

// A failure a retry may fix (the store unreachable) is retried with
// growing pauses, a bounded number of times.
func TestDeriveTransientFailure(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		blobs := withBlobs(f)
		f.report(withPhotos(f.upload(gpsJPEG(t))))
		f.report(withPhotos(f.upload(gpsJPEG(t))))
		ps := f.photoRows()
		failing := map[string]int{ps[0].Path: 1, ps[1].Path: 1000} // first recovers, second never
		var mu sync.Mutex
		blobs.onOpen = func(key string) error {
			mu.Lock()
			defer mu.Unlock()
			if failing[key] > 0 {
				failing[key]--
				return errors.New("object store unreachable")
			}
			return nil
		}
		f.derive(f.svc, "w1")
		js := f.jobs()
		if len(js) != 2 {
			t.Fatalf("jobs after a failure = %+v", js)
		}
		var lastRun int64
		for _, j := range js {
			if j.Owner != "" || j.LeaseUntil != 0 || j.Attempts != 1 || j.RunAfter <= store.Ms(f.clk.Now()) || !strings.Contains(j.LastError, "unreachable") {
				t.Errorf("job after a failure = %+v", j)
			}
			lastRun = j.RunAfter
		}
		// Not before the pause.
		f.clk.Set(time.UnixMilli(lastRun - 1))
		f.derive(f.svc, "w1")
		if js := f.jobs(); js[0].Attempts != 1 || js[1].Attempts != 1 {
			t.Fatalf("retried before the pause: %+v", js)
		}
		// Each failure pushes the job back further than the one before.
		pauses := []int64{lastRun - store.Ms(start)}
		for round := 0; round < 20 && len(f.jobs()) > 0; round++ {
			js := f.jobs()
			f.clk.Set(time.UnixMilli(js[len(js)-1].RunAfter + 1))
			tried := store.Ms(f.clk.Now())
			f.derive(f.svc, "w1")
			if js := f.jobs(); len(js) > 0 {
				pauses = append(pauses, js[len(js)-1].RunAfter-tried)
			}
		}
		ps = f.photoRows()
		if ps[0].DerivedAt == 0 || ps[0].DErr != "" {
			t.Errorf("photo that recovered = %+v", ps[0])
		}
		if ps[1].DerivedAt != 0 || !strings.Contains(ps[1].DErr, "unreachable") {
			t.Errorf("photo that never recovered = %+v", ps[1])
		}
		if js := f.jobs(); len(js) != 0 {
			t.Errorf("jobs left = %+v", js)
		}
		mu.Lock()
		left := failing[ps[1].Path]
		mu.Unlock()
		if attempts := 1000 - left; attempts < 2 || attempts > 10 {
			t.Errorf("the failing photo was tried %d times", attempts)
		}
		for i := 1; i < len(pauses); i++ {
			if pauses[i] <= pauses[i-1] {
				t.Errorf("pauses do not grow: %v ms", pauses)
				break
			}
		}
	})
}

// The worker started by serve derives a new photo without waiting for
// its poll.
func TestPhotoWorkerWakesOnReport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx, cancel := context.WithCancel(f.ctx)
		done := make(chan struct{})
		go func() { f.svc.PhotoJobs.Run(ctx, "serve", time.Hour); close(done) }()
		defer func() { cancel(); <-done }()
		f.report(withPhotos(f.upload(gpsJPEG(t))))
		deadline := time.Now().Add(10 * time.Second)
		for {
			if ps := f.photoRows(); ps[0].DerivedAt != 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the worker did not derive the photo")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// DerivePhotos says it returns how many photos it derived; a photo that
// failed was not derived.
func TestDerivePhotosCountsOnlyDerived(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.report(withPhotos(f.upload(corruptJPEG())))
		n, err := f.svc.PhotoJobs.Derive(f.ctx, "w1")
		if err != nil {
			t.Fatal(err)
		}
		if ps := f.photoRows(); ps[0].DErr == "" {
			t.Fatalf("photo = %+v", ps[0])
		}
		if n != 0 {
			t.Errorf("DerivePhotos = %d for a queue holding only a corrupt photo, want 0 derived", n)
		}
	})
}
