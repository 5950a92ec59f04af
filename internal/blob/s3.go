package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
)

// S3 keeps objects in a bucket of an S3-compatible object store (AWS S3,
// MinIO, Ceph RGW, Alibaba OSS, Huawei OBS, …), speaking the REST API through
// net/http with requests signed by AWS Signature Version 4 (sigv4.go).
//
// Payload signing: every PUT carries the real SHA-256 of its body in
// x-amz-content-sha256, never UNSIGNED-PAYLOAD, so the store verifies the
// bytes it received even over plain HTTP on an intranet, where
// UNSIGNED-PAYLOAD would let a corrupted or tampered upload through. Computing
// the hash before sending needs the body twice: a reader that can seek (an
// *os.File, a multipart.File, a bytes.Reader) is read once for the hash and
// rewound; any other reader is buffered, in memory up to 8 MiB and in a
// temporary file beyond, removed when Put returns. Photos are at most 20 MB,
// so one PUT (no multipart upload) suffices; S3 stores a single PUT atomically.
//
// Timeouts come from the ctx of each call; the reader Open returns keeps
// depending on that ctx until it is closed.
type S3 struct {
	// Endpoint is the store's base URL, such as "https://oss-cn-hangzhou.aliyuncs.com"
	// or "http://10.1.2.3:9000". Empty: AWS's endpoint for Region.
	Endpoint string
	// Region is the signing region; empty means us-east-1.
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// PathStyle addresses objects as Endpoint/Bucket/key (MinIO, Ceph, most
	// self-hosted stores) instead of Bucket.host/key.
	PathStyle bool
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
}

// spoolMemLimit is the largest body of a non-seekable reader that Put keeps in
// memory while hashing it; larger ones go to a temporary file.
const spoolMemLimit = 8 << 20

// S3Error is a failure answered by the object store, with the S3 error code
// from the response's XML body (AccessDenied, SignatureDoesNotMatch,
// NoSuchBucket, …) when it sent one.
type S3Error struct {
	Op         string // "put", "get" or "delete"
	Key        string
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *S3Error) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.StatusCode)
	}
	s := fmt.Sprintf("blob: s3 %s %q: %d %s", e.Op, e.Key, e.StatusCode, code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// String describes the store for logs, without the credentials.
func (s S3) String() string {
	return fmt.Sprintf("s3 bucket %q at %s (region %s, path style %v)", s.Bucket, s.Endpoint, s.region(), s.PathStyle)
}

// LogValue keeps the secret out of structured logs, which would otherwise
// print every field.
func (s S3) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s S3) region() string {
	if s.Region == "" {
		return "us-east-1"
	}
	return s.Region
}

func (s S3) client() *http.Client {
	if s.Client == nil {
		return http.DefaultClient
	}
	return s.Client
}

func (s S3) signer() sigv4Signer {
	return sigv4Signer{accessKey: s.AccessKey, secretKey: s.SecretKey, region: s.region()}
}

// objectURL returns the URL of key; its RawPath is the SigV4 canonical
// encoding, so the path on the wire is the one signed.
func (s S3) objectURL(key string) (*url.URL, error) {
	if s.Bucket == "" {
		return nil, errors.New("blob: s3 store has no bucket")
	}
	ep := s.Endpoint
	if ep == "" {
		ep = "https://s3." + s.region() + ".amazonaws.com"
	}
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	base, err := url.Parse(ep)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		(base.Path != "" && base.Path != "/") || base.RawQuery != "" || base.User != nil {
		return nil, fmt.Errorf("blob: s3 endpoint %q: want http(s)://host[:port]", s.Endpoint)
	}
	u := &url.URL{Scheme: base.Scheme, Host: base.Host}
	if s.PathStyle {
		u.Path = "/" + s.Bucket + "/" + key
		u.RawPath = "/" + uriEncode(s.Bucket, true) + "/" + uriEncode(key, false)
	} else {
		u.Host = s.Bucket + "." + base.Host
		u.Path = "/" + key
		u.RawPath = "/" + uriEncode(key, false)
	}
	return u, nil
}

func (s S3) newRequest(ctx context.Context, method, key string) (*http.Request, error) {
	u, err := s.objectURL(key)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, "", nil)
	if err != nil {
		return nil, err
	}
	req.URL = u
	req.Host = u.Host
	return req, nil
}

// Put implements Store.
func (s S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	req, err := s.newRequest(ctx, http.MethodPut, key)
	if err != nil {
		return err
	}
	p, err := newPayload(ctx, r, size, spoolMemLimit)
	if err != nil {
		return fmt.Errorf("blob: s3 put %q: %w", key, err)
	}
	// The transport may still read the body after Do returns (when the store
	// answers before taking it all); shutting the gate first keeps it off the
	// caller's reader and the temporary file once Put has returned.
	defer p.cleanup()
	defer p.gate.shut()

	if contentType == "" {
		contentType = "application/octet-stream"
	}
	req.Header.Set("Content-Type", contentType)
	req.ContentLength = p.size
	if p.size == 0 {
		req.Body = http.NoBody
	} else {
		if req.Body, err = p.open(); err != nil {
			return fmt.Errorf("blob: s3 put %q: %w", key, err)
		}
		req.GetBody = p.open
	}
	s.signer().sign(req, p.hash, time.Now())

	resp, err := s.client().Do(req)
	if err != nil {
		return fmt.Errorf("blob: s3 put %q: %w", key, err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode/100 != 2 {
		return s3Failure("put", key, resp)
	}
	return nil
}

// Open implements Store.
func (s S3) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	if err := ValidKey(key); err != nil {
		return nil, 0, err
	}
	req, err := s.newRequest(ctx, http.MethodGet, key)
	if err != nil {
		return nil, 0, err
	}
	// Asked for explicitly, so that the transport neither requests gzip nor
	// unzips behind our back, which would make the size unknowable.
	req.Header.Set("Accept-Encoding", "identity")
	s.signer().sign(req, emptySHA256, time.Now())
	resp, err := s.client().Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("blob: s3 get %q: %w", key, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer drainClose(resp.Body)
		return nil, 0, s3Failure("get", key, resp)
	}
	return resp.Body, resp.ContentLength, nil
}

// Delete implements Store. S3 answers 204 whether or not the key existed.
func (s S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	req, err := s.newRequest(ctx, http.MethodDelete, key)
	if err != nil {
		return err
	}
	s.signer().sign(req, emptySHA256, time.Now())
	resp, err := s.client().Do(req)
	if err != nil {
		return fmt.Errorf("blob: s3 delete %q: %w", key, err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = s3Failure("delete", key, resp)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// s3Failure turns a non-2xx response into an error: ErrNotFound for a
// missing key, an *S3Error otherwise. A 404 for a missing bucket is an
// *S3Error: that is a configuration mistake and must not pass for an absent
// photo.
func s3Failure(op, key string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var x struct {
		Code      string `xml:"Code"`
		Message   string `xml:"Message"`
		RequestID string `xml:"RequestId"`
	}
	if xml.Unmarshal(body, &x) != nil || x.Code == "" {
		x.Code, x.RequestID = "", ""
		// Not an S3 error document (a proxy's error page, say): keep a
		// printable excerpt.
		x.Message = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
			if unicode.IsPrint(r) {
				return r
			}
			return ' '
		}, string(body))), " ")
		if len(x.Message) > 200 {
			x.Message = x.Message[:200] + "…"
		}
	}
	if resp.StatusCode == http.StatusNotFound && (x.Code == "" || x.Code == "NoSuchKey") {
		return fmt.Errorf("blob: s3 %s %q: %w", op, key, ErrNotFound)
	}
	if x.RequestID == "" {
		x.RequestID = resp.Header.Get("X-Amz-Request-Id")
	}
	return &S3Error{Op: op, Key: key, StatusCode: resp.StatusCode, Code: x.Code, Message: x.Message, RequestID: x.RequestID}
}

func drainClose(rc io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}

// payload is a request body that can be read again from the start (for the
// transport's retries and redirects), with its length and SHA-256.
type payload struct {
	rs      io.ReadSeeker
	start   int64
	size    int64
	hash    string
	gate    bodyGate
	cleanup func()
}

// newPayload hashes r in place when it can seek, and otherwise spools it to
// memory or, beyond memLimit bytes, to a temporary file. A known size that r
// does not match is an error.
func newPayload(ctx context.Context, r io.Reader, size, memLimit int64) (*payload, error) {
	p := &payload{cleanup: func() {}}
	if rs, ok := r.(io.ReadSeeker); ok {
		// A pipe is an *os.File too, but its Seek fails: spool it instead.
		if start, err := rs.Seek(0, io.SeekCurrent); err == nil {
			h := sha256.New()
			n, err := io.Copy(h, ctxReader{ctx, limitTo(rs, size)})
			if err != nil {
				return nil, err
			}
			if err := checkSize(n, size); err != nil {
				return nil, err
			}
			p.rs, p.start, p.size, p.hash = rs, start, n, hex.EncodeToString(h.Sum(nil))
			return p, nil
		}
	}
	var err error
	p.rs, p.size, p.hash, p.cleanup, err = spool(ctx, r, size, memLimit)
	return p, err
}

func limitTo(r io.Reader, size int64) io.Reader {
	if size < 0 {
		return r
	}
	return io.LimitReader(r, size+1) // one more byte tells a longer content
}

func checkSize(n, size int64) error {
	if size >= 0 && n != size {
		return fmt.Errorf("content is %d bytes, announced %d", n, size)
	}
	return nil
}

func spool(ctx context.Context, r io.Reader, size, memLimit int64) (rs io.ReadSeeker, n int64, hash string, cleanup func(), err error) {
	h := sha256.New()
	src := io.TeeReader(ctxReader{ctx, limitTo(r, size)}, h)
	var buf bytes.Buffer
	if size >= 0 && size <= memLimit {
		buf.Grow(int(size) + 1)
	}
	n, err = io.Copy(&buf, io.LimitReader(src, memLimit+1))
	if err != nil {
		return nil, 0, "", nil, err
	}
	if n <= memLimit {
		if err := checkSize(n, size); err != nil {
			return nil, 0, "", nil, err
		}
		return bytes.NewReader(buf.Bytes()), n, hex.EncodeToString(h.Sum(nil)), func() {}, nil
	}
	f, err := os.CreateTemp("", "chuangwen-blob-*")
	if err != nil {
		return nil, 0, "", nil, err
	}
	cleanup = func() {
		f.Close()
		os.Remove(f.Name())
	}
	if _, err = f.Write(buf.Bytes()); err == nil {
		var m int64
		m, err = io.Copy(f, src)
		n += m
	}
	if err == nil {
		err = checkSize(n, size)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, 0, "", nil, err
	}
	return f, n, hex.EncodeToString(h.Sum(nil)), cleanup, nil
}

// open returns a fresh reader over the whole payload.
func (p *payload) open() (io.ReadCloser, error) {
	p.gate.mu.Lock()
	defer p.gate.mu.Unlock()
	if p.gate.shutDown {
		return nil, errBodyGone
	}
	if _, err := p.rs.Seek(p.start, io.SeekStart); err != nil {
		return nil, err
	}
	return gatedReader{&p.gate, io.LimitReader(p.rs, p.size)}, nil
}

var errBodyGone = errors.New("blob: request body read after Put returned")

// bodyGate stops every reader of a payload at once.
type bodyGate struct {
	mu       sync.Mutex
	shutDown bool
}

func (g *bodyGate) shut() {
	g.mu.Lock()
	g.shutDown = true
	g.mu.Unlock()
}

type gatedReader struct {
	g *bodyGate
	r io.Reader
}

func (b gatedReader) Read(p []byte) (int, error) {
	b.g.mu.Lock()
	defer b.g.mu.Unlock()
	if b.g.shutDown {
		return 0, errBodyGone
	}
	return b.r.Read(p)
}

func (gatedReader) Close() error { return nil }

// List implements Lister with ListObjectsV2, a page of up to 1,000 keys
// at a time.
func (s S3) List(ctx context.Context, prefix string, fn func(key string, mod time.Time) error) error {
	token := ""
	for {
		req, err := s.newRequest(ctx, http.MethodGet, "")
		if err != nil {
			return err
		}
		q := url.Values{"list-type": {"2"}, "prefix": {prefix}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		req.URL.RawQuery = q.Encode()
		s.signer().sign(req, emptySHA256, time.Now())
		resp, err := s.client().Do(req)
		if err != nil {
			return fmt.Errorf("blob: s3 list %q: %w", prefix, err)
		}
		if resp.StatusCode/100 != 2 {
			err := s3Failure("list", prefix, resp)
			drainClose(resp.Body)
			return err
		}
		var page struct {
			Contents []struct {
				Key          string    `xml:"Key"`
				LastModified time.Time `xml:"LastModified"`
			} `xml:"Contents"`
			IsTruncated           bool   `xml:"IsTruncated"`
			NextContinuationToken string `xml:"NextContinuationToken"`
		}
		err = xml.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&page)
		drainClose(resp.Body)
		if err != nil {
			return fmt.Errorf("blob: s3 list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if err := fn(o.Key, o.LastModified); err != nil {
				return err
			}
		}
		if !page.IsTruncated || page.NextContinuationToken == "" {
			return nil
		}
		token = page.NextContinuationToken
	}
}
