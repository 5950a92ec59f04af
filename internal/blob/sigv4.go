package blob

// AWS Signature Version 4 for S3, written from the published specification
// ("Authenticating Requests: Using the Authorization Header", S3 API
// reference) and checked against its worked examples in sigv4_test.go.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

const (
	sigAlgorithm  = "AWS4-HMAC-SHA256"
	sigService    = "s3"
	amzDateLayout = "20060102T150405Z"
	// emptySHA256 is the hex SHA-256 of no bytes, the payload hash of GET and
	// DELETE.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

type sigv4Signer struct {
	accessKey, secretKey, region string
}

// sign sets X-Amz-Date, X-Amz-Content-Sha256 and Authorization on req.
// payloadHash is the hex SHA-256 of the body. req.URL.Path must be the
// decoded path; the request must go on the wire with a path that decodes to
// the same string (objectURL ensures that by sending the canonical encoding).
func (s sigv4Signer) sign(req *http.Request, payloadHash string, now time.Time) {
	amzDate := now.UTC().Format(amzDateLayout)
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creq, signed := canonicalRequest(req, payloadHash)
	scope := s.scope(amzDate[:8])
	sig := hex.EncodeToString(hmacSHA256(s.signingKey(amzDate[:8]), []byte(stringToSign(amzDate, scope, creq))))
	req.Header.Set("Authorization", sigAlgorithm+" Credential="+s.accessKey+"/"+scope+
		",SignedHeaders="+signed+",Signature="+sig)
}

func (s sigv4Signer) scope(day string) string {
	return day + "/" + s.region + "/" + sigService + "/aws4_request"
}

func (s sigv4Signer) signingKey(day string) []byte {
	k := hmacSHA256([]byte("AWS4"+s.secretKey), []byte(day))
	k = hmacSHA256(k, []byte(s.region))
	k = hmacSHA256(k, []byte(sigService))
	return hmacSHA256(k, []byte("aws4_request"))
}

func stringToSign(amzDate, scope, canonicalRequest string) string {
	h := sha256.Sum256([]byte(canonicalRequest))
	return sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

// signedHeader reports whether a header takes part in the signature. Only
// headers this package sets itself are signed: the transport adds others
// (User-Agent, Accept-Encoding) and proxies may rewrite them.
func signedHeader(lower string) bool {
	switch lower {
	case "host", "content-type", "content-md5", "range", "date":
		return true
	}
	return strings.HasPrefix(lower, "x-amz-")
}

// canonicalRequest returns the canonical request and the signed header list.
func canonicalRequest(req *http.Request, payloadHash string) (creq, signedHeaders string) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	vals := map[string]string{"host": host}
	for name, v := range req.Header {
		lower := strings.ToLower(name)
		if !signedHeader(lower) {
			continue
		}
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = strings.Join(strings.Fields(p), " ")
		}
		vals[lower] = strings.Join(parts, ",")
	}
	names := make([]string, 0, len(vals))
	for n := range vals {
		names = append(names, n)
	}
	sort.Strings(names)

	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	p := req.URL.Path
	if p == "" {
		p = "/"
	}
	b.WriteString(uriEncode(p, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(req.URL.RawQuery))
	b.WriteByte('\n')
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(vals[n])
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	signedHeaders = strings.Join(names, ";")
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), signedHeaders
}

// canonicalQuery decodes the query and re-encodes it the SigV4 way, sorted by
// name and then value; a parameter without '=' gets an empty value. '+' is
// taken literally, as S3 does, not as a space.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		pairs = append(pairs, kv{uriEncode(k, true), uriEncode(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte except the unreserved characters
// A-Z a-z 0-9 - . _ ~ (and '/' unless encodeSlash), with upper-case hex digits:
// SigV4's UriEncode, which is stricter than net/url's escaping.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
