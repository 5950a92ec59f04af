package blob_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"chuangwen/internal/blob"
)

// subject is one Store under the conformance test.
type subject struct {
	store blob.Store
	// contentType returns the content type stored with key; nil when the
	// implementation keeps none.
	contentType func(t *testing.T, key string) string
}

const (
	testBucket    = "photos"
	testAccessKey = "chuangwen-test"
	testSecretKey = "test/secret+key=="
	testRegion    = "cn-east-1"
)

// startS3 serves gofakes3's in-memory backend on 127.0.0.1:0 behind a
// middleware that authenticates requests as S3 does (gofakes3 checks no
// signatures): a wrong key, a wrong payload hash or a request altered after
// signing is refused with the S3 error code.
func startS3(t testing.TB, opts ...gofakes3.Option) (*httptest.Server, *s3mem.Backend) {
	t.Helper()
	backend := s3mem.New()
	fake := gofakes3.New(backend, opts...).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if code, detail := blob.CheckSigV4(r, body, testAccessKey, testSecretKey, testRegion); code != "" {
			writeS3Error(w, http.StatusForbidden, code, detail)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, backend
}

func writeS3Error(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	var msg strings.Builder
	xml.EscapeText(&msg, []byte(message))
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+
		`<Error><Code>%s</Code><Message>%s</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`, code, msg.String())
}

func s3Subject(t *testing.T) subject {
	srv, backend := startS3(t)
	if err := backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	return subject{
		store: blob.S3{
			Endpoint: srv.URL, Region: testRegion, Bucket: testBucket,
			AccessKey: testAccessKey, SecretKey: testSecretKey,
			PathStyle: true, Client: srv.Client(),
		},
		contentType: func(t *testing.T, key string) string {
			obj, err := backend.HeadObject(testBucket, key)
			if err != nil {
				t.Fatalf("head %q: %v", key, err)
			}
			return obj.Metadata["Content-Type"]
		},
	}
}

func TestConformance(t *testing.T) {
	subjects := map[string]func(t *testing.T) subject{
		"Local": func(t *testing.T) subject { return subject{store: blob.Local{Dir: t.TempDir()}} },
		"S3":    s3Subject,
	}
	for name, mk := range subjects {
		t.Run(name, func(t *testing.T) {
			for _, c := range conformanceCases {
				t.Run(c.name, func(t *testing.T) { c.run(t, mk(t)) })
			}
		})
	}
}

var conformanceCases = []struct {
	name string
	run  func(t *testing.T, s subject)
}{
	{"PutOpen", testPutOpen},
	{"Overwrite", testOverwrite},
	{"NotFound", testNotFound},
	{"Delete", testDelete},
	{"Empty", testEmpty},
	{"ContentType", testContentType},
	{"Subfolders", testSubfolders},
	{"Large", testLarge},
	{"SizeMismatch", testSizeMismatch},
	{"FailingReader", testFailingReader},
	{"InvalidKey", testInvalidKey},
	{"ConcurrentPuts", testConcurrentPuts},
	{"ReadersSeeWholeObjects", testReadersSeeWholeObjects},
	{"Cancel", testCancel},
	{"List", testList},
}

// testList: every object under a prefix is listed once with a recent
// time, and nothing outside it.
func testList(t *testing.T, s subject) {
	lister, ok := s.store.(blob.Lister)
	if !ok {
		t.Fatalf("%T cannot list", s.store)
	}
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 3 {
		k := fmt.Sprintf("orig/2026/1%d/a%d.jpg", i, i)
		put(t, s.store, k, data(byte(i), 10))
		want[k] = true
	}
	put(t, s.store, "derived/1/1-large.jpg", data(9, 10))
	got := map[string]bool{}
	err := lister.List(ctx, "orig/", func(key string, mod time.Time) error {
		if got[key] {
			t.Errorf("%s listed twice", key)
		}
		got[key] = true
		if time.Since(mod) > time.Hour || time.Until(mod) > time.Hour {
			t.Errorf("%s: modified %s", key, mod)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%s not listed", k)
		}
	}
	// An empty prefix lists nothing and is no error.
	if err := lister.List(ctx, "none/", func(string, time.Time) error { t.Error("listed under none/"); return nil }); err != nil {
		t.Error(err)
	}
}

// data returns n deterministic pseudo-random bytes.
func data(seed byte, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// onlyReader hides every method but Read, as a network stream does.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func put(t *testing.T, s blob.Store, key string, content []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(content), int64(len(content)), "image/jpeg"); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

// mustRead opens key and checks the announced size against the content.
func mustRead(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	rc, size, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %q: %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	if size != int64(len(got)) {
		t.Fatalf("open %q: size %d, content %d bytes", key, size, len(got))
	}
	return got
}

func wantContent(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	if got := mustRead(t, s, key); !bytes.Equal(got, want) {
		t.Fatalf("%q holds %d bytes %.20q…, want %d bytes %.20q…", key, len(got), got, len(want), want)
	}
}

func wantAbsent(t *testing.T, s blob.Store, key string) {
	t.Helper()
	rc, _, err := s.Open(context.Background(), key)
	if err == nil {
		rc.Close()
		t.Fatalf("open %q: found, want ErrNotFound", key)
	}
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("open %q: %v, want ErrNotFound", key, err)
	}
}

func testPutOpen(t *testing.T, s subject) {
	ctx := context.Background()
	a := data(1, 1000)
	put(t, s.store, "orig/2026/11/ab12cd.jpg", a)
	wantContent(t, s.store, "orig/2026/11/ab12cd.jpg", a)

	// A stream of unknown size.
	b := data(2, 70_000)
	if err := s.store.Put(ctx, "derived/2026/11/ab12cd_w640.webp", onlyReader{bytes.NewReader(b)}, -1, "image/webp"); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s.store, "derived/2026/11/ab12cd_w640.webp", b)

	// A seekable reader not at its start: Put stores what is left.
	r := bytes.NewReader(b)
	r.Seek(100, io.SeekStart)
	if err := s.store.Put(ctx, "derived/2026/11/tail.bin", r, int64(len(b)-100), ""); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s.store, "derived/2026/11/tail.bin", b[100:])
	wantContent(t, s.store, "orig/2026/11/ab12cd.jpg", a)
}

func testOverwrite(t *testing.T, s subject) {
	key := "orig/2026/11/over.jpg"
	put(t, s.store, key, data(1, 5000))
	put(t, s.store, key, []byte("v2"))
	wantContent(t, s.store, key, []byte("v2"))
	third := data(3, 9000)
	if err := s.store.Put(context.Background(), key, onlyReader{bytes.NewReader(third)}, -1, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s.store, key, third)
}

func testNotFound(t *testing.T, s subject) {
	wantAbsent(t, s.store, "orig/none.jpg")
	put(t, s.store, "orig/2026/11/x.jpg", []byte("x"))
	// Prefixes of a key are no objects (a directory, for Local).
	wantAbsent(t, s.store, "orig/2026/11")
	wantAbsent(t, s.store, "orig")
	wantAbsent(t, s.store, "orig/2026/11/x.jp")
}

func testDelete(t *testing.T, s subject) {
	ctx := context.Background()
	key := "orig/2026/11/del.jpg"
	put(t, s.store, key, []byte("to be deleted"))
	put(t, s.store, "orig/2026/11/keep.jpg", []byte("kept"))
	if err := s.store.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s.store, key)
	for _, k := range []string{key, "orig/never.jpg", "orig/2026", "never/existed/at/all"} {
		if err := s.store.Delete(ctx, k); err != nil {
			t.Errorf("delete absent %q: %v", k, err)
		}
	}
	wantContent(t, s.store, "orig/2026/11/keep.jpg", []byte("kept"))
	// The key can be used again.
	put(t, s.store, key, []byte("back"))
	wantContent(t, s.store, key, []byte("back"))
}

func testEmpty(t *testing.T, s subject) {
	ctx := context.Background()
	put(t, s.store, "orig/empty", nil)
	wantContent(t, s.store, "orig/empty", []byte{})
	if err := s.store.Put(ctx, "orig/empty2", onlyReader{strings.NewReader("")}, -1, ""); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s.store, "orig/empty2", []byte{})
}

func testContentType(t *testing.T, s subject) {
	ctx := context.Background()
	for key, ct := range map[string]string{
		"derived/a.webp": "image/webp",
		"orig/b.jpg":     "image/jpeg",
		"orig/c.bin":     "",
	} {
		if err := s.store.Put(ctx, key, strings.NewReader("x"), 1, ct); err != nil {
			t.Fatal(err)
		}
		if s.contentType == nil {
			// A store that keeps no type still takes one and keeps the bytes.
			wantContent(t, s.store, key, []byte("x"))
			continue
		}
		want := ct
		if want == "" {
			want = "application/octet-stream"
		}
		if got := s.contentType(t, key); got != want {
			t.Errorf("%q: content type %q, want %q", key, got, want)
		}
	}
}

func testSubfolders(t *testing.T, s subject) {
	ctx := context.Background()
	keys := []string{
		"a/b", "a/b2", "a/bc/d", "a/bc/d2",
		"orig/2026/11/ab12cd.jpg", "orig/2026/12/ab12cd.jpg",
		"x/y/z/w/v/u/t/s.jpg",
		"derived/2026/11/文明 城市+(1)!$&'=,;@~.jpg",
		"top-level.jpg",
	}
	for i, k := range keys {
		put(t, s.store, k, data(byte(i), 100+i))
	}
	for i, k := range keys {
		wantContent(t, s.store, k, data(byte(i), 100+i))
	}
	if err := s.store.Delete(ctx, "a/bc/d"); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s.store, "a/bc/d")
	wantContent(t, s.store, "a/bc/d2", data(3, 103))
	wantContent(t, s.store, "a/b", data(0, 100))
}

func testLarge(t *testing.T, s subject) {
	ctx := context.Background()
	big := data(7, 5<<20)
	put(t, s.store, "orig/2026/11/big.jpg", big)
	wantContent(t, s.store, "orig/2026/11/big.jpg", big)
	// The same through a stream of unknown size, in odd-sized reads.
	big2 := data(8, 5<<20+123)
	if err := s.store.Put(ctx, "orig/2026/11/big2.jpg", iotest.HalfReader(bytes.NewReader(big2)), -1, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s.store, "orig/2026/11/big2.jpg", big2)
}

func testSizeMismatch(t *testing.T, s subject) {
	ctx := context.Background()
	key := "orig/2026/11/size.jpg"
	old := []byte("old content")
	put(t, s.store, key, old)
	tests := []struct {
		name    string
		r       io.Reader
		size    int64
		missing string
	}{
		{"shorter", bytes.NewReader(data(1, 5)), 10, "orig/2026/11/short.jpg"},
		{"longer", bytes.NewReader(data(1, 6)), 3, "orig/2026/11/long.jpg"},
		{"stream shorter", onlyReader{bytes.NewReader(data(1, 5))}, 10, "orig/2026/11/sshort.jpg"},
		{"stream longer", onlyReader{bytes.NewReader(data(1, 6))}, 3, "orig/2026/11/slong.jpg"},
	}
	for _, tc := range tests {
		if err := s.store.Put(ctx, key, tc.r, tc.size, "image/jpeg"); err == nil {
			t.Errorf("%s replacing: no error", tc.name)
		}
		wantContent(t, s.store, key, old)
		if err := s.store.Put(ctx, tc.missing, onlyReader{bytes.NewReader(data(1, 5))}, 4, "image/jpeg"); err == nil {
			t.Errorf("%s new: no error", tc.name)
		}
		wantAbsent(t, s.store, tc.missing)
	}
}

var errBoom = errors.New("camera upload interrupted")

func testFailingReader(t *testing.T, s subject) {
	ctx := context.Background()
	key := "orig/2026/11/fail.jpg"
	old := data(1, 3000)
	put(t, s.store, key, old)
	failing := func() io.Reader { return io.MultiReader(bytes.NewReader(data(2, 200_000)), iotest.ErrReader(errBoom)) }
	if err := s.store.Put(ctx, key, failing(), 300_000, "image/jpeg"); !errors.Is(err, errBoom) {
		t.Errorf("replacing: %v, want %v", err, errBoom)
	}
	wantContent(t, s.store, key, old)
	if err := s.store.Put(ctx, "orig/2026/11/new.jpg", failing(), -1, "image/jpeg"); !errors.Is(err, errBoom) {
		t.Errorf("new: %v, want %v", err, errBoom)
	}
	wantAbsent(t, s.store, "orig/2026/11/new.jpg")
}

func testInvalidKey(t *testing.T, s subject) {
	ctx := context.Background()
	for _, k := range []string{"", "../etc/passwd", "/abs", "a/../../b", `a\b`, "a\x00b", strings.Repeat("k", 513)} {
		if err := s.store.Put(ctx, k, strings.NewReader("x"), 1, ""); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("put %q: %v, want ErrInvalidKey", k, err)
		}
		if _, _, err := s.store.Open(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("open %q: %v, want ErrInvalidKey", k, err)
		}
		if err := s.store.Delete(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("delete %q: %v, want ErrInvalidKey", k, err)
		}
	}
}

func testConcurrentPuts(t *testing.T, s subject) {
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("orig/2026/11/c%02d.jpg", i)
			var r io.Reader = bytes.NewReader(data(byte(i), 64<<10+i))
			size := int64(64<<10 + i)
			if i%2 == 1 {
				r, size = onlyReader{r}, -1
			}
			errs <- s.store.Put(context.Background(), key, r, size, "image/jpeg")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		wantContent(t, s.store, fmt.Sprintf("orig/2026/11/c%02d.jpg", i), data(byte(i), 64<<10+i))
	}
}

// Writers replace one key over and over with versions of different sizes
// while readers read it: every read is one whole version.
func testReadersSeeWholeObjects(t *testing.T, s subject) {
	key := "derived/2026/11/hot.webp"
	versions := [][]byte{
		bytes.Repeat([]byte{'a'}, 200_000),
		bytes.Repeat([]byte{'b'}, 70_000),
		bytes.Repeat([]byte{'c'}, 130_001),
	}
	put(t, s.store, key, versions[0])
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for w := range 2 {
		wg.Go(func() {
			for i := range 15 {
				v := versions[(i+w)%len(versions)]
				if err := s.store.Put(context.Background(), key, bytes.NewReader(v), int64(len(v)), "image/webp"); err != nil {
					report("put: %v", err)
				}
			}
		})
	}
	reads := 0
	var rwg sync.WaitGroup
	for range 2 {
		rwg.Go(func() {
			for ctx.Err() == nil {
				rc, size, err := s.store.Open(context.Background(), key)
				if err != nil {
					report("open: %v", err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					report("read: %v", err)
					return
				}
				ok := false
				for _, v := range versions {
					ok = ok || bytes.Equal(got, v)
				}
				if !ok || size != int64(len(got)) {
					report("read %d bytes (size %d) starting %q: not one whole version", len(got), size, got[:min(len(got), 1)])
				}
				mu.Lock()
				reads++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stop()
	rwg.Wait()
	for _, p := range problems {
		t.Error(p)
	}
	if reads == 0 {
		t.Error("no read happened")
	}
}

// cancelOnRead cancels its context once the first bytes have been read, as a
// client that hangs up in the middle of an upload.
type cancelOnRead struct {
	r      *bytes.Reader
	cancel context.CancelFunc
}

func (c cancelOnRead) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

func (c cancelOnRead) Seek(offset int64, whence int) (int64, error) { return c.r.Seek(offset, whence) }

func testCancel(t *testing.T, s subject) {
	key := "orig/2026/11/cancel.jpg"
	old := []byte("old")
	put(t, s.store, key, old)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.store.Put(canceled, key, strings.NewReader("new"), 3, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("put with canceled ctx: %v", err)
	}
	if err := s.store.Put(canceled, "orig/2026/11/never.jpg", strings.NewReader("new"), 3, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("put new with canceled ctx: %v", err)
	}
	if _, _, err := s.store.Open(canceled, key); !errors.Is(err, context.Canceled) {
		t.Errorf("open with canceled ctx: %v", err)
	}
	if err := s.store.Delete(canceled, key); !errors.Is(err, context.Canceled) {
		t.Errorf("delete with canceled ctx: %v", err)
	}
	wantContent(t, s.store, key, old)
	wantAbsent(t, s.store, "orig/2026/11/never.jpg")

	// Canceled in the middle of the content, seekable or not.
	big := data(9, 1<<20)
	for _, seekable := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		var r io.Reader = cancelOnRead{bytes.NewReader(big), cancel}
		if !seekable {
			r = onlyReader{r}
		}
		err := s.store.Put(ctx, key, r, int64(len(big)), "image/jpeg")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("put canceled midway (seekable %v): %v", seekable, err)
		}
		wantContent(t, s.store, key, old)
	}
}
