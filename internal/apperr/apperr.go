// Package apperr is the application's error vocabulary. Domain code returns
// an *Error with a code (what kind of failure) and a message key with
// arguments (what to tell the user); the web layer maps the code to an
// HTTP status and the key to the user's language in exactly one place.
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies a failure.
type Code string

const (
	Invalid      Code = "invalid"      // 400: the input is wrong
	Unauthorized Code = "unauthorized" // 401: not logged in
	Forbidden    Code = "forbidden"    // 403: logged in, not allowed
	NotFound     Code = "not_found"    // 404: absent, or outside the caller's scope
	NotAllowed   Code = "not_allowed"  // 405: the address takes other methods
	Conflict     Code = "conflict"     // 409: the state of things forbids it now
	TooLarge     Code = "too_large"    // 413: body or file too large
	Unsupported  Code = "unsupported"  // 415: wrong media type
	RateLimited  Code = "rate_limited" // 429: slow down
	Unavailable  Code = "unavailable"  // 503: not ready yet, try again shortly
	Internal     Code = "internal"     // 500
)

// Error is a failure the user can be told about.
type Error struct {
	Code Code
	// Key names the message in the catalogue; Args are name/value pairs
	// substituted for {name} in it.
	Key  string
	Args []string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Key)
	for i := 0; i+1 < len(e.Args); i += 2 {
		fmt.Fprintf(&b, " %s=%s", e.Args[i], e.Args[i+1])
	}
	return b.String()
}

// New returns an *Error; args are name, value, name, value, ...
func New(code Code, key string, args ...string) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// CodeOf returns the code of err, Internal when err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as an *Error if it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
