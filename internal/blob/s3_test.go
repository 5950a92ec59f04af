package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"

	"chuangwen/internal/blob"
)

func testS3(srv *httptest.Server) blob.S3 {
	return blob.S3{
		Endpoint: srv.URL, Region: testRegion, Bucket: testBucket,
		AccessKey: testAccessKey, SecretKey: testSecretKey,
		PathStyle: true, Client: srv.Client(),
	}
}

// Wrong credentials against the authenticating server: the error names the
// S3 code, and a refused Open is not "not found".
func TestS3BadCredentials(t *testing.T) {
	srv, backend := startS3(t)
	if err := backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	good := testS3(srv)
	put(t, good, "orig/a.jpg", []byte("a"))

	wrongKey, wrongSecret, wrongRegion := good, good, good
	wrongKey.AccessKey = "someone-else"
	wrongSecret.SecretKey = "not-the-secret"
	wrongRegion.Region = "us-west-2"
	for name, tc := range map[string]struct {
		s    blob.S3
		code string
	}{
		"access key": {wrongKey, "InvalidAccessKeyId"},
		"secret":     {wrongSecret, "SignatureDoesNotMatch"},
		"region":     {wrongRegion, "AuthorizationHeaderMalformed"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			errs := map[string]error{
				"put":    tc.s.Put(ctx, "orig/b.jpg", bytes.NewReader(data(1, 1<<20)), 1<<20, "image/jpeg"),
				"delete": tc.s.Delete(ctx, "orig/a.jpg"),
			}
			_, _, errs["open"] = tc.s.Open(ctx, "orig/a.jpg")
			for op, err := range errs {
				var se *blob.S3Error
				if !errors.As(err, &se) || se.Code != tc.code || se.StatusCode != http.StatusForbidden {
					t.Errorf("%s: %v, want S3Error %s", op, err, tc.code)
					continue
				}
				if !strings.Contains(err.Error(), tc.code) || errors.Is(err, blob.ErrNotFound) {
					t.Errorf("%s: error %q", op, err)
				}
			}
			wantContent(t, good, "orig/a.jpg", []byte("a"))
			wantAbsent(t, good, "orig/b.jpg")
		})
	}
}

// A missing bucket is a configuration error, never an absent photo.
func TestS3MissingBucket(t *testing.T) {
	srv, _ := startS3(t) // no bucket created
	s := testS3(srv)
	ctx := context.Background()
	_, _, err := s.Open(ctx, "orig/a.jpg")
	var se *blob.S3Error
	if !errors.As(err, &se) || se.Code != "NoSuchBucket" || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("open: %v, want NoSuchBucket", err)
	}
	if err := s.Put(ctx, "orig/a.jpg", strings.NewReader("a"), 1, ""); !errors.As(err, &se) || se.Code != "NoSuchBucket" {
		t.Errorf("put: %v, want NoSuchBucket", err)
	}
	if err := s.Delete(ctx, "orig/a.jpg"); !errors.As(err, &se) || se.Code != "NoSuchBucket" {
		t.Errorf("delete: %v, want NoSuchBucket", err)
	}
}

// How responses of other S3-compatible stores and of proxies in front of
// them become errors.
func TestS3ErrorMapping(t *testing.T) {
	const noSuchKey = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>orig/a.jpg</Key><RequestId>TX1</RequestId></Error>`
	tests := []struct {
		name     string
		status   int
		body     string
		header   map[string]string
		op       string
		notFound bool
		noError  bool
		code     string
		contains []string
	}{
		{name: "get NoSuchKey", status: 404, body: noSuchKey, op: "get", notFound: true},
		{name: "get 404 without body", status: 404, op: "get", notFound: true},
		{name: "delete NoSuchKey", status: 404, body: noSuchKey, op: "delete", noError: true},
		{name: "put AccessDenied", status: 403, op: "put", code: "AccessDenied",
			body:     `<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>TX2</RequestId></Error>`,
			contains: []string{"403", "AccessDenied", "Access Denied", "TX2"}},
		{name: "get NoSuchBucket", status: 404, op: "get", code: "NoSuchBucket",
			body: `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>`},
		{name: "delete SlowDown", status: 503, op: "delete", code: "SlowDown",
			body:     `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`,
			contains: []string{"503", "SlowDown"}},
		{name: "get RequestTimeTooSkewed", status: 403, op: "get", code: "RequestTimeTooSkewed",
			body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the server's time is too large.</Message></Error>`},
		{name: "proxy error page", status: 502, op: "put",
			body:     "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>",
			header:   map[string]string{"X-Amz-Request-Id": "TX3"},
			contains: []string{"502", "Bad Gateway", "nginx", "TX3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			methods := make(chan string, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				methods <- r.Method
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			s := testS3(srv)
			ctx := context.Background()
			var err error
			switch tc.op {
			case "get":
				var rc io.ReadCloser
				rc, _, err = s.Open(ctx, "orig/a.jpg")
				if err == nil {
					rc.Close()
				}
			case "put":
				err = s.Put(ctx, "orig/a.jpg", strings.NewReader("a"), 1, "")
			case "delete":
				err = s.Delete(ctx, "orig/a.jpg")
			}
			if want, got := map[string]string{"get": "GET", "put": "PUT", "delete": "DELETE"}[tc.op], <-methods; got != want {
				t.Errorf("server saw %s, want %s", got, want)
			}
			switch {
			case tc.noError:
				if err != nil {
					t.Fatalf("%v, want no error", err)
				}
				return
			case tc.notFound:
				if !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("%v, want ErrNotFound", err)
				}
				return
			}
			if err == nil || errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("%v, want an S3 error", err)
			}
			var se *blob.S3Error
			if !errors.As(err, &se) || se.Code != tc.code || se.StatusCode != tc.status || se.Op != tc.op || se.Key != "orig/a.jpg" {
				t.Fatalf("%#v, want code %q status %d", err, tc.code, tc.status)
			}
			for _, c := range append(tc.contains, tc.code) {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("%q lacks %q", err, c)
				}
			}
		})
	}
}

// The deadline of ctx bounds a call to a store that does not answer.
func TestS3Timeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	s := testS3(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := s.Open(ctx, "orig/a.jpg")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("open: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("open returned after %v", d)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if err := s.Put(ctx2, "orig/a.jpg", strings.NewReader("a"), 1, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put: %v, want DeadlineExceeded", err)
	}
}

// A store that refuses a PUT before reading its body: Put reports the
// refusal, and the caller may reuse its reader at once (run with -race).
func TestS3EarlyRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "no")
	}))
	defer srv.Close()
	s := testS3(srv)
	content := data(1, 4<<20)
	for range 3 {
		r := bytes.NewReader(content)
		err := s.Put(context.Background(), "orig/a.jpg", r, int64(len(content)), "")
		if err == nil {
			t.Fatal("no error")
		}
		// The refusal, or a broken connection when the server hung up first.
		t.Log(err)
		// Would race with a transport still reading r.
		r.Seek(0, io.SeekStart)
		io.Copy(io.Discard, r)
	}
}

// Virtual-hosted addressing (bucket.host/key), as AWS and OSS use, against
// gofakes3 routing by Host.
func TestS3VirtualHosted(t *testing.T) {
	srv, backend := startS3(t, gofakes3.WithHostBucket(true))
	if err := backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var mu sync.Mutex
	var dialed []string
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	s := testS3(srv)
	s.Endpoint = "http://s3.test:" + port
	s.PathStyle = false
	s.Client = &http.Client{Transport: tr}

	key := "derived/2026/11/文明 1+1.webp"
	content := data(4, 10_000)
	put(t, s, key, content)
	wantContent(t, s, key, content)
	if _, err := backend.HeadObject(testBucket, key); err != nil {
		t.Errorf("object not in the bucket under its key: %v", err)
	}
	if err := s.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s, key)
	mu.Lock()
	defer mu.Unlock()
	if len(dialed) == 0 || dialed[0] != testBucket+".s3.test:"+port {
		t.Errorf("dialed %v, want %s.s3.test:%s", dialed, testBucket, port)
	}
}

func BenchmarkS3Put(b *testing.B) {
	srv, backend := startS3(b)
	backend.CreateBucket(testBucket)
	s := testS3(srv)
	content := data(1, 2<<20)
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		if err := s.Put(context.Background(), "orig/bench.jpg", bytes.NewReader(content), int64(len(content)), "image/jpeg"); err != nil {
			b.Fatal(err)
		}
	}
}
