package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CheckSigV4 does what an S3 server does with a request it received: it
// checks the access key, that x-amz-content-sha256 is the hash of the body it
// actually got, and recomputes the signature from the request as it arrived
// (decoded path, Host header, the headers named in SignedHeaders). It returns
// the S3 error code to answer with, or "" when the request is authentic. The
// tests put it in front of gofakes3, which checks no signatures itself, so that
// a path encoded differently on the wire than in the signature, a header the
// transport rewrote, or a wrong payload hash fails the conformance test.
func CheckSigV4(r *http.Request, body []byte, accessKey, secretKey, region string) (code, detail string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, sigAlgorithm+" ")
	if !ok {
		return "AccessDenied", "no SigV4 Authorization header"
	}
	fields := map[string]string{}
	for f := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[2] != region || cred[3] != sigService || cred[4] != "aws4_request" {
		return "AuthorizationHeaderMalformed", "credential " + fields["Credential"]
	}
	if cred[0] != accessKey {
		return "InvalidAccessKeyId", "unknown access key " + cred[0]
	}
	sum := sha256.Sum256(body)
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != hex.EncodeToString(sum[:]) {
		return "XAmzContentSHA256Mismatch", "payload hash " + got
	}
	at, err := time.Parse(amzDateLayout, r.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != cred[1] {
		return "AccessDenied", "bad x-amz-date"
	}

	c := &http.Request{Method: r.Method, URL: r.URL, Host: r.Host, Header: http.Header{}}
	for _, name := range strings.Split(fields["SignedHeaders"], ";") {
		if name == "host" {
			continue
		}
		if v, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
			c.Header[http.CanonicalHeaderKey(name)] = v
		}
	}
	sigv4Signer{accessKey, secretKey, region}.sign(c, r.Header.Get("X-Amz-Content-Sha256"), at)
	if c.Header.Get("Authorization") != auth {
		creq, _ := canonicalRequest(c, r.Header.Get("X-Amz-Content-Sha256"))
		return "SignatureDoesNotMatch", fmt.Sprintf("server's canonical request:\n%s", creq)
	}
	return "", ""
}
