package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// The worked examples of "Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk (AWS Signature Version 4)"
// in the Amazon S3 API Reference (sig-v4-header-based-auth.html).
var awsExample = sigv4Signer{
	accessKey: "AKIAIOSFODNN7EXAMPLE",
	secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	region:    "us-east-1",
}

var awsExampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func TestSigV4AWSExamples(t *testing.T) {
	welcome := sha256.Sum256([]byte("Welcome to Amazon S3."))
	tests := []struct {
		name        string
		method, url string
		headers     map[string]string
		payloadHash string
		// canonical and toSignHash are published for two of the examples.
		canonical     string
		toSignHash    string
		authorization string
	}{
		{
			name:   "GET object",
			method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt",
			headers:     map[string]string{"Range": "bytes=0-9"},
			payloadHash: emptySHA256,
			canonical: "GET\n/test.txt\n\n" +
				"host:examplebucket.s3.amazonaws.com\n" +
				"range:bytes=0-9\n" +
				"x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
				"x-amz-date:20130524T000000Z\n\n" +
				"host;range;x-amz-content-sha256;x-amz-date\n" +
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			toSignHash:    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
			authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name:   "PUT object",
			method: "PUT", url: "https://examplebucket.s3.amazonaws.com/test$file.text",
			headers: map[string]string{
				"Date":                "Fri, 24 May 2013 00:00:00 GMT",
				"X-Amz-Storage-Class": "REDUCED_REDUNDANCY",
			},
			payloadHash: hex.EncodeToString(welcome[:]),
			canonical: "PUT\n/test%24file.text\n\n" +
				"date:Fri, 24 May 2013 00:00:00 GMT\n" +
				"host:examplebucket.s3.amazonaws.com\n" +
				"x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n" +
				"x-amz-date:20130524T000000Z\n" +
				"x-amz-storage-class:REDUCED_REDUNDANCY\n\n" +
				"date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n" +
				"44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
			toSignHash:    "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
			authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			name:   "GET bucket lifecycle",
			method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle",
			payloadHash:   emptySHA256,
			authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			name:   "GET bucket (list objects)",
			method: "GET", url: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
			payloadHash:   emptySHA256,
			authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			awsExample.sign(req, tc.payloadHash, awsExampleTime)
			if tc.canonical != "" {
				creq, _ := canonicalRequest(req, tc.payloadHash)
				if creq != tc.canonical {
					t.Errorf("canonical request:\n%s\nwant:\n%s", creq, tc.canonical)
				}
				sts := stringToSign("20130524T000000Z", awsExample.scope("20130524"), creq)
				if got := sts[strings.LastIndexByte(sts, '\n')+1:]; got != tc.toSignHash {
					t.Errorf("string to sign ends %s, want %s", got, tc.toSignHash)
				}
			}
			if got := req.Header.Get("Authorization"); got != tc.authorization {
				t.Errorf("Authorization:\n%s\nwant:\n%s", got, tc.authorization)
			}
			if got := req.Header.Get("X-Amz-Date"); got != "20130524T000000Z" {
				t.Errorf("X-Amz-Date = %q", got)
			}
		})
	}
}

func TestSigV4SignatureCoversRequest(t *testing.T) {
	base := func() *http.Request {
		req, _ := http.NewRequest("PUT", "http://127.0.0.1:9000/photos/orig/a.jpg", nil)
		req.Header.Set("Content-Type", "image/jpeg")
		return req
	}
	sig := func(req *http.Request, hash string, at time.Time, s sigv4Signer) string {
		s.sign(req, hash, at)
		return req.Header.Get("Authorization")
	}
	ref := sig(base(), emptySHA256, awsExampleTime, awsExample)
	changed := map[string]string{}
	r := base()
	r.URL.Path = "/photos/orig/b.jpg"
	changed["path"] = sig(r, emptySHA256, awsExampleTime, awsExample)
	r = base()
	r.Header.Set("Content-Type", "image/png")
	changed["content type"] = sig(r, emptySHA256, awsExampleTime, awsExample)
	changed["payload"] = sig(base(), strings.Repeat("0", 64), awsExampleTime, awsExample)
	changed["time"] = sig(base(), emptySHA256, awsExampleTime.Add(time.Second), awsExample)
	other := awsExample
	other.region = "cn-north-1"
	changed["region"] = sig(base(), emptySHA256, awsExampleTime, other)
	other = awsExample
	other.secretKey += "x"
	changed["secret"] = sig(base(), emptySHA256, awsExampleTime, other)
	for what, s := range changed {
		if s == ref {
			t.Errorf("changing the %s left the signature unchanged", what)
		}
	}
	// Headers the transport or a proxy may touch are not signed.
	r = base()
	r.Header.Set("User-Agent", "x")
	r.Header.Set("Accept-Encoding", "identity")
	if got := sig(r, emptySHA256, awsExampleTime, awsExample); got != ref {
		t.Errorf("unsigned headers changed the signature:\n%s\n%s", got, ref)
	}
}

func TestURIEncode(t *testing.T) {
	tests := []struct {
		in          string
		encodeSlash bool
		want        string
	}{
		{"orig/2026/11/ab12.jpg", false, "orig/2026/11/ab12.jpg"},
		{"orig/2026/11/ab12.jpg", true, "orig%2F2026%2F11%2Fab12.jpg"},
		{"A-Za-z0-9-._~", true, "A-Za-z0-9-._~"},
		{"a b+c", false, "a%20b%2Bc"},
		{"!$&'()*,;=:@", false, "%21%24%26%27%28%29%2A%2C%3B%3D%3A%40"},
		{"100%", false, "100%25"},
		{"文明", false, "%E6%96%87%E6%98%8E"},
		{"", false, ""},
	}
	for _, tc := range tests {
		if got := uriEncode(tc.in, tc.encodeSlash); got != tc.want {
			t.Errorf("uriEncode(%q, %v) = %q, want %q", tc.in, tc.encodeSlash, got, tc.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := map[string]string{
		"":                    "",
		"lifecycle":           "lifecycle=",
		"prefix=J&max-keys=2": "max-keys=2&prefix=J",
		"b=2&a=y&a=x":         "a=x&a=y&b=2",
		"prefix=a%2Fb%20c":    "prefix=a%2Fb%20c",
		"k=a+b":               "k=a%2Bb",
		"uploads&partNumber=": "partNumber=&uploads=",
	}
	for in, want := range tests {
		if got := canonicalQuery(in); got != want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

// The path sent is the path signed: the URL's escaped form is the canonical
// encoding, and it decodes back to the key.
func TestObjectURL(t *testing.T) {
	key := "derived/2026/11/文明 城市+(1)!$&'=,;@~.jpg"
	tests := []struct {
		s        S3
		wantHost string
		wantPath string
	}{
		{S3{Endpoint: "http://127.0.0.1:9000", Bucket: "photos", PathStyle: true}, "127.0.0.1:9000", "/photos/" + uriEncode(key, false)},
		{S3{Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", Bucket: "photos"}, "photos.oss-cn-hangzhou.aliyuncs.com", "/" + uriEncode(key, false)},
		{S3{Endpoint: "minio.internal:9000/", Bucket: "p", PathStyle: true}, "minio.internal:9000", "/p/" + uriEncode(key, false)},
		{S3{Region: "cn-north-1", Bucket: "photos"}, "photos.s3.cn-north-1.amazonaws.com", "/" + uriEncode(key, false)},
	}
	for _, tc := range tests {
		u, err := tc.s.objectURL(key)
		if err != nil {
			t.Fatalf("%+v: %v", tc.s, err)
		}
		if u.Host != tc.wantHost || u.EscapedPath() != tc.wantPath {
			t.Errorf("%s: host %q path %q, want %q %q", tc.s, u.Host, u.EscapedPath(), tc.wantHost, tc.wantPath)
		}
		if dec, _ := url.PathUnescape(u.EscapedPath()); !strings.HasSuffix(dec, "/"+key) {
			t.Errorf("escaped path decodes to %q", dec)
		}
	}
	for _, bad := range []S3{
		{Endpoint: "ftp://x", Bucket: "b"},
		{Endpoint: "http://x/prefix", Bucket: "b"},
		{Endpoint: "http://user:pw@x", Bucket: "b"},
		{Endpoint: "http://x"},
	} {
		if _, err := bad.objectURL("k"); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestSpool(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)                                   // os.TempDir, where spool puts its file
	content := bytes.Repeat([]byte("0123456789abcdef"), 1024) // 16 KiB
	sum := sha256.Sum256(content)
	leftovers := func() []string {
		m, _ := filepath.Glob(filepath.Join(tmp, "chuangwen-blob-*"))
		return m
	}
	tests := []struct {
		name     string
		size     int64
		memLimit int64
		onDisk   bool
		wantErr  bool
	}{
		{"memory, size known", int64(len(content)), 1 << 20, false, false},
		{"memory, size unknown", -1, 1 << 20, false, false},
		{"memory, exactly the limit", -1, int64(len(content)), false, false},
		{"disk, size unknown", -1, 1024, true, false},
		{"disk, size known", int64(len(content)), 1024, true, false},
		{"memory, content longer than announced", 100, 1 << 20, false, true},
		{"disk, content shorter than announced", int64(len(content)) + 1, 1024, true, true},
		{"disk, content longer than announced", 4096, 1024, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := iotest.HalfReader(bytes.NewReader(content)) // not a Seeker
			rs, n, hash, cleanup, err := spool(context.Background(), r, tc.size, tc.memLimit)
			if tc.wantErr {
				if err == nil {
					cleanup()
					t.Fatal("no error")
				}
				if l := leftovers(); len(l) != 0 {
					t.Fatalf("temporary files left: %v", l)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f, isFile := rs.(*os.File)
			if isFile != tc.onDisk {
				t.Errorf("on disk = %v, want %v", isFile, tc.onDisk)
			}
			got, err := io.ReadAll(rs)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(content)) || !bytes.Equal(got, content) || hash != hex.EncodeToString(sum[:]) {
				t.Errorf("n=%d hash=%s, content equal %v", n, hash, bytes.Equal(got, content))
			}
			cleanup()
			if isFile {
				if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
					t.Errorf("temporary file %s not removed: %v", f.Name(), err)
				}
			}
			if l := leftovers(); len(l) != 0 {
				t.Errorf("temporary files left: %v", l)
			}
		})
	}
}

// A valid key is a clean local path, and the path Put sends to S3 decodes to
// the key itself.
func FuzzValidKey(f *testing.F) {
	for _, s := range []string{
		"orig/2026/11/ab12cd.jpg", "derived/2026/11/ab12cd_w640.webp", "a", "a/b/c",
		"../x", "/etc/passwd", "a//b", "a/./b", "a/.tmp-x", "a\\b", "a\x00b", "a/", "文明/城市 1+2.jpg",
		strings.Repeat("k", MaxKeyLen), strings.Repeat("k", MaxKeyLen+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidKey(key) != nil {
			return
		}
		if len(key) > MaxKeyLen || !filepath.IsLocal(key) || path.Clean(key) != key {
			t.Fatalf("ValidKey accepted %q", key)
		}
		for seg := range strings.SplitSeq(key, "/") {
			if strings.HasPrefix(seg, ".") {
				t.Fatalf("ValidKey accepted dot segment in %q", key)
			}
		}
		enc := uriEncode(key, false)
		if dec, err := url.PathUnescape(enc); err != nil || dec != key {
			t.Fatalf("uriEncode(%q) = %q decodes to %q, %v", key, enc, dec, err)
		}
		u := &url.URL{Scheme: "http", Host: "h", Path: "/b/" + key, RawPath: "/b/" + enc}
		if u.EscapedPath() != "/b/"+enc {
			t.Fatalf("net/url sends %q for %q, not the signed %q", u.EscapedPath(), key, enc)
		}
	})
}
