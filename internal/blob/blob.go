// Package blob stores photo files (照片文件): originals, which stay private,
// and the versions derived from them. Files never go into the database; they
// live either in a local folder (Local, the default) or in an S3-compatible
// object store (S3), chosen at start-up by Open from one configuration string.
//
// Both implementations give the same guarantees, checked by one conformance
// test: a Put is all-or-nothing (a reader sees the old object, the new one, or
// nothing, never a part), Open of an absent key is ErrNotFound, and Delete of an
// absent key succeeds.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Store keeps objects under keys such as "orig/2026/11/ab12….jpg".
type Store interface {
	// Put stores the content of r under key atomically: readers see the whole
	// object or nothing. size is the number of bytes r yields, or -1 when
	// unknown; when it is known and r yields another number of bytes, Put
	// fails and stores nothing. contentType may be empty.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the object's content and size; ErrNotFound when absent.
	// The reader may depend on ctx until it is closed.
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// Delete removes the object; an absent object is not an error.
	Delete(ctx context.Context, key string) error
}

var (
	// ErrNotFound is returned (wrapped) by Open when no object has the key.
	ErrNotFound = errors.New("blob: object not found")
	// ErrInvalidKey is returned (wrapped) by ValidKey and by every Store method
	// given a key ValidKey refuses.
	ErrInvalidKey = errors.New("blob: invalid key")
)

// MaxKeyLen is the longest key accepted, in bytes. S3 allows 1024; the
// application's keys are far shorter, and a tighter bound keeps local paths
// well inside PATH_MAX.
const MaxKeyLen = 512

// ValidKey reports whether key may name an object: a relative slash-separated
// path of at most MaxKeyLen bytes of UTF-8, without backslashes or control
// characters (NUL included), whose segments are neither empty nor "." nor "..",
// nor start with a dot (dot names are where Local keeps its temporary files).
// The same rules hold for every Store, so a key that works on a laptop works on
// the object store.
func ValidKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why) }
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidKey, len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return bad("not UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("absolute")
	}
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c == '\\':
			return bad("backslash")
		case c < 0x20 || c == 0x7f:
			return bad("control character")
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return bad("empty segment")
		case seg == "." || seg == "..":
			return bad("dot segment")
		case seg[0] == '.':
			return bad("segment starts with a dot")
		}
	}
	return nil
}

// Environment variables that supply the object store's credentials when the
// s3:// URL given to Open carries none, so that secrets stay out of command
// lines and process listings.
const (
	EnvS3AccessKey = "CHUANGWEN_S3_ACCESS_KEY"
	EnvS3SecretKey = "CHUANGWEN_S3_SECRET_KEY"
)

// Open returns the Store a configuration string names:
//
//	/var/lib/chuangwen/photos          a plain path: Local in that folder
//	file:///var/lib/chuangwen/photos   the same as a URL
//	s3://ACCESS:SECRET@host:port/bucket?region=cn-east-1&path_style=1&insecure=1
//
// For s3:// the host (with an optional port) is the object store's endpoint
// and the single path segment is the bucket. Query parameters, all optional:
//
//	region      signing region, default us-east-1 (what MinIO and most
//	            S3-compatible stores expect when they have none)
//	path_style  1/true: address the bucket as host/bucket/key (MinIO, Ceph,
//	            most self-hosted stores); default 0: bucket.host/key (AWS, OSS)
//	insecure    1/true: plain HTTP instead of HTTPS, for a store on a trusted
//	            intranet segment; TLS certificates are always verified when
//	            HTTPS is used
//
// ACCESS and SECRET are percent-encoded in the URL (a '/' in the secret is
// %2F). When the URL carries no access key, CHUANGWEN_S3_ACCESS_KEY is used;
// when it carries no secret, CHUANGWEN_S3_SECRET_KEY. Unknown parameters are
// refused so that a misspelt one does not silently fall back to a default.
func Open(config string) (Store, error) {
	if config == "" {
		return nil, errors.New("blob: empty store location")
	}
	if !strings.Contains(config, "://") {
		return Local{Dir: filepath.Clean(config)}, nil
	}
	u, err := url.Parse(config)
	if err != nil {
		// url.Parse's error repeats the input, which may hold a secret.
		return nil, errors.New("blob: store location is not a valid URL")
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("blob: file URL with host %q (write file:///absolute/path)", u.Host)
		}
		if u.Path == "" || u.RawQuery != "" {
			return nil, errors.New("blob: file URL needs a path and takes no parameters")
		}
		return Local{Dir: filepath.Clean(u.Path)}, nil
	case "s3":
		return openS3(u)
	default:
		return nil, fmt.Errorf("blob: unknown store scheme %q (want a path, file:// or s3://)", u.Scheme)
	}
}

func openS3(u *url.URL) (Store, error) {
	s := S3{Region: "us-east-1"}
	if u.User != nil {
		s.AccessKey = u.User.Username()
		s.SecretKey, _ = u.User.Password()
	}
	if s.AccessKey == "" {
		s.AccessKey = os.Getenv(EnvS3AccessKey)
	}
	if s.SecretKey == "" {
		s.SecretKey = os.Getenv(EnvS3SecretKey)
	}
	if s.AccessKey == "" || s.SecretKey == "" {
		return nil, fmt.Errorf("blob: s3 store needs an access key and a secret (in the URL or %s/%s)", EnvS3AccessKey, EnvS3SecretKey)
	}
	if u.Host == "" {
		return nil, errors.New("blob: s3 URL has no host")
	}
	s.Bucket = strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/")
	if s.Bucket == "" || strings.Contains(s.Bucket, "/") {
		return nil, fmt.Errorf("blob: s3 URL path %q must be exactly one bucket name", u.Path)
	}
	scheme := "https"
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 URL parameters: %w", err)
	}
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "region":
			if v == "" {
				return nil, errors.New("blob: s3 URL has an empty region")
			}
			s.Region = v
		case "path_style", "insecure":
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("blob: s3 URL parameter %s=%q: want 1 or 0", name, v)
			}
			if name == "path_style" {
				s.PathStyle = on
			} else if on {
				scheme = "http"
			}
		default:
			return nil, fmt.Errorf("blob: unknown s3 URL parameter %q (want region, path_style, insecure)", name)
		}
	}
	s.Endpoint = scheme + "://" + u.Host
	return s, nil
}

// Lister is a Store that can enumerate its objects (both Local and S3
// can; the photo sweep needs it).
type Lister interface {
	List(ctx context.Context, prefix string, fn func(key string, mod time.Time) error) error
}

// TempRemover is a Store that writes through temporary files (Local): a
// crash in the middle of a write leaves one behind, which List does not
// show, and RemoveStaleTemp removes those older than cutoff.
type TempRemover interface {
	RemoveStaleTemp(ctx context.Context, cutoff time.Time) (int, error)
}
