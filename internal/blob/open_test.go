package blob_test

import (
	"errors"
	"strings"
	"testing"

	"chuangwen/internal/blob"
)

func TestValidKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"orig/2026/11/ab12cd34ef.jpg", true},
		{"derived/2026/11/ab12cd34ef_w640.webp", true},
		{"a", true},
		{"a.b/c-d_e~f", true},
		{"文明城市/照片 1.jpg", true},
		{"a..b/c", true}, // dots inside a name are fine
		{strings.Repeat("k", blob.MaxKeyLen), true},

		{"", false},
		{strings.Repeat("k", blob.MaxKeyLen+1), false},
		{"/orig/a.jpg", false},
		{"/", false},
		{"..", false},
		{"../a", false},
		{"a/../b", false},
		{"a/..", false},
		{".", false},
		{"./a", false},
		{"a/./b", false},
		{"a//b", false},
		{"a/", false},
		{`a\b`, false},
		{`..\a`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\x7fb", false},
		{"a/.tmp-123", false},
		{".hidden", false},
		{"a/\xff.jpg", false},
	}
	for _, tc := range tests {
		err := blob.ValidKey(tc.key)
		if (err == nil) != tc.ok {
			t.Errorf("ValidKey(%.40q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
		if err != nil && !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidKey(%.40q) = %v, not ErrInvalidKey", tc.key, err)
		}
	}
}

func TestOpenConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		env     map[string]string
		want    blob.Store
		wantErr string // substring
	}{
		{name: "plain path", config: "/var/lib/chuangwen/photos", want: blob.Local{Dir: "/var/lib/chuangwen/photos"}},
		{name: "relative path", config: "data/photos/", want: blob.Local{Dir: "data/photos"}},
		{name: "file URL", config: "file:///srv/photos", want: blob.Local{Dir: "/srv/photos"}},
		{name: "file URL localhost", config: "file://localhost/srv/photos", want: blob.Local{Dir: "/srv/photos"}},
		{name: "s3 full", config: "s3://AK:S%2FK%2B@10.1.2.3:9000/photos?region=cn-east-1&path_style=1&insecure=1",
			want: blob.S3{Endpoint: "http://10.1.2.3:9000", Region: "cn-east-1", Bucket: "photos", AccessKey: "AK", SecretKey: "S/K+", PathStyle: true}},
		{name: "s3 defaults", config: "s3://AK:SK@oss-cn-hangzhou.aliyuncs.com/photos",
			want: blob.S3{Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", Region: "us-east-1", Bucket: "photos", AccessKey: "AK", SecretKey: "SK"}},
		{name: "s3 flags off", config: "s3://AK:SK@h/b/?path_style=false&insecure=0",
			want: blob.S3{Endpoint: "https://h", Region: "us-east-1", Bucket: "b", AccessKey: "AK", SecretKey: "SK"}},
		{name: "s3 secrets from env", config: "s3://minio:9000/photos?path_style=true",
			env:  map[string]string{blob.EnvS3AccessKey: "envAK", blob.EnvS3SecretKey: "envSK"},
			want: blob.S3{Endpoint: "https://minio:9000", Region: "us-east-1", Bucket: "photos", AccessKey: "envAK", SecretKey: "envSK", PathStyle: true}},
		{name: "s3 secret from env, key from URL", config: "s3://urlAK@minio/photos",
			env:  map[string]string{blob.EnvS3AccessKey: "envAK", blob.EnvS3SecretKey: "envSK"},
			want: blob.S3{Endpoint: "https://minio", Region: "us-east-1", Bucket: "photos", AccessKey: "urlAK", SecretKey: "envSK"}},

		{name: "empty", config: "", wantErr: "empty"},
		{name: "unknown scheme", config: "ftp://host/x", wantErr: "scheme"},
		{name: "file URL with host", config: "file://relative/path", wantErr: "host"},
		{name: "s3 no credentials", config: "s3://minio/photos", wantErr: blob.EnvS3SecretKey},
		{name: "s3 no secret", config: "s3://AK@minio/photos", wantErr: "secret"},
		{name: "s3 no bucket", config: "s3://AK:SK@minio", wantErr: "bucket"},
		{name: "s3 nested path", config: "s3://AK:SK@minio/photos/sub", wantErr: "bucket"},
		{name: "s3 no host", config: "s3://AK:SK@/photos", wantErr: "host"},
		{name: "s3 unknown parameter", config: "s3://AK:SK@minio/photos?pathstyle=1", wantErr: "pathstyle"},
		{name: "s3 bad flag", config: "s3://AK:SK@minio/photos?insecure=yes", wantErr: "insecure"},
		{name: "s3 empty region", config: "s3://AK:SK@minio/photos?region=", wantErr: "region"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(blob.EnvS3AccessKey, tc.env[blob.EnvS3AccessKey])
			t.Setenv(blob.EnvS3SecretKey, tc.env[blob.EnvS3SecretKey])
			got, err := blob.Open(tc.config)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Open(%q) = %v, %v; want error about %q", tc.config, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.config, err)
			}
			if got != tc.want {
				t.Fatalf("Open(%q) = %#v, want %#v", tc.config, got, tc.want)
			}
		})
	}
}

// A malformed URL's error must not echo the secret it may contain.
func TestOpenConfigErrorHidesSecret(t *testing.T) {
	_, err := blob.Open("s3://AK:topsecret@host:badport/bucket")
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("error reveals the secret: %v", err)
	}
	s := blob.S3{Endpoint: "https://h", Bucket: "b", AccessKey: "AK", SecretKey: "topsecret"}
	if strings.Contains(s.String(), "topsecret") || strings.Contains(s.LogValue().String(), "topsecret") {
		t.Fatalf("S3 description reveals the secret: %s", s)
	}
}
