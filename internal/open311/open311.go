package open311

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Limits of the protocol layer.
const (
	DefaultPageSize     = 50
	MaxPageSize         = 500 // also the most service_request_id values at once
	MaxPage             = 1_000_000
	MaxDescription      = 4000 // characters (runes)
	MaxSpan             = 90 * 24 * time.Hour
	DefaultMaxBodyBytes = 64 << 10
)

// Specification is the discovery token of GeoReport v2.
const Specification = "http://wiki.open311.org/GeoReport_v2"

// Service is one service request type (诉求类别).
type Service struct {
	Code, Name, Description, Group string
	Keywords                       []string
	Metadata                       bool   // true: the client should fetch the service definition
	Type                           string // realtime (default when empty), batch, blackbox
}

// Value is one choice of a singlevaluelist or multivaluelist attribute.
type Value struct{ Key, Name string }

// Attribute is one field of a service definition.
type Attribute struct {
	Variable            bool
	Code, Datatype      string // string, number, datetime, text, singlevaluelist, multivaluelist
	Required            bool
	DatatypeDescription string
	Order               int // unique positive; attributes are written in this order
	Description         string
	Values              []Value
}

// Request is a service request (案件) as the public may see it: never the
// reporter's name, phone or email.
type Request struct {
	ID, Status, StatusNotes, ServiceName, ServiceCode, Description string // Status: open | closed
	AgencyResponsible, ServiceNotice                               string
	Requested, Updated, Expected                                   time.Time // zero Expected: empty element / null
	Address, AddressID, Zipcode                                    string
	Lat, Long                                                      *float64
	MediaURL                                                       string
	Extended                                                       *Extended // written only when extensions=true
}

// Extended is what extensions=true adds to a request.
type Extended struct {
	Attributes map[string][]string // attribute code → values
	Channel    string
	Photos     []string // URLs
	Duplicate  bool
	ParentID   string // the request this one was merged into
	Notes      []Note
}

// Note is one step of a request's history.
type Note struct {
	At                         time.Time
	Description, Type, Summary string
}

// NewRequest is a parsed POST requests.{fmt}.
type NewRequest struct {
	APIKey, JurisdictionID, ServiceCode string
	Lat, Long                           *float64 // both or neither
	Coord                               string   // wgs84 | gcj02 | bd09; "" means wgs84
	AddressString, AddressID            string
	Attributes                          map[string][]string // nil when none
	Email, DeviceID, AccountID          string
	FirstName, LastName, Phone          string
	Description, MediaURL               string
}

// Created is the answer to a POST: ID for realtime services, Token for
// batch ones, neither for blackbox ones; never both.
type Created struct{ ID, Token, Notice, AccountID string }

// Query is a parsed GET requests.{fmt}. When IDs is set every other filter
// is zero. Status nil means every status. Start and End bound
// requested_datetime, UpdatedAfter and UpdatedBefore updated_datetime, all
// inclusive; a zero time is no bound. Page counts from 1.
type Query struct {
	IDs, ServiceCodes, Status   []string
	Start, End                  time.Time
	UpdatedAfter, UpdatedBefore time.Time
	Page, PageSize              int
	Extensions                  bool
}

// Backend is the case store seen through GeoReport. lang is "zh-CN" or
// "en" (whatever Options.Language returns). Errors the user should see are
// *Error values (NotFound, Forbidden, BadRequest); any other error is
// logged and answered 500.
type Backend interface {
	Services(ctx context.Context, lang string) ([]Service, error)
	// Definition returns NotFound for an unknown code.
	Definition(ctx context.Context, lang, code string) ([]Attribute, error)
	// Create checks the api_key (Forbidden), the service code (NotFound)
	// and the attributes (BadRequest), then files the request. r gives
	// access to the client's address and headers.
	Create(ctx context.Context, r *http.Request, in NewRequest) (Created, error)
	// Token returns the id of the request filed under token, "" while it
	// is pending, NotFound for an unknown token.
	Token(ctx context.Context, token string) (id string, err error)
	Requests(ctx context.Context, lang string, q Query) ([]Request, error)
	// Request returns NotFound for an unknown id.
	Request(ctx context.Context, lang, id string, extensions bool) (Request, error)
}

// Error is a failure to report to the client. The body's description is
// Description when set, otherwise Key (with name/value Args) translated by
// Options.Messages; the body's code is Code when set, otherwise Status.
type Error struct {
	Status      int
	Code        string
	Description string
	Key         string
	Args        []string
}

func (e *Error) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("open311 %d: %s", e.Status, e.Description)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "open311 %d: %s", e.Status, e.Key)
	for i := 0; i+1 < len(e.Args); i += 2 {
		fmt.Fprintf(&b, " %s=%s", e.Args[i], e.Args[i+1])
	}
	return b.String()
}

// NotFound is a 404: unknown service code, request id or token.
func NotFound(desc string) *Error { return &Error{Status: http.StatusNotFound, Description: desc} }

// Forbidden is a 403: missing or wrong api_key.
func Forbidden(desc string) *Error { return &Error{Status: http.StatusForbidden, Description: desc} }

// BadRequest is a 400: any other input the request cannot be filed with.
func BadRequest(desc string) *Error { return &Error{Status: http.StatusBadRequest, Description: desc} }

// keyed is an *Error whose description comes from the message catalogue.
func keyed(status int, key string, args ...string) *Error {
	return &Error{Status: status, Key: key, Args: args}
}

// Discovery is the service discovery document.
type Discovery struct {
	Changeset  string // sortable, e.g. "2026-07-01 00:00"
	Contact    string
	KeyService string // how to get an api_key
	// Endpoints default to one production endpoint at the handler's own
	// URL (scheme and host of the request, then the prefix), with both
	// formats; set them when a proxy changes the URL clients see.
	Endpoints []Endpoint
}

// Endpoint is one API endpoint listed by discovery.
type Endpoint struct {
	Specification string // default Specification
	URL           string
	Changeset     string // default Discovery.Changeset
	Type          string // production (default) or test
	Formats       []string
}

// Options configure NewHandler. The zero value works.
type Options struct {
	// Jurisdiction is this server's jurisdiction_id; "" ignores the
	// parameter.
	Jurisdiction string
	Discovery    Discovery
	Log          *slog.Logger // default discards
	MaxBodyBytes int64        // POST body limit, default DefaultMaxBodyBytes
	Now          func() time.Time
	Location     *time.Location // zone of written times, default UTC
	// Messages translates the handler's own error keys ("open311.*") with
	// name/value args; default: the package's built-in zh-CN and en texts.
	Messages func(lang, key string, args ...string) string
	// Language picks the language from a locale parameter or an
	// Accept-Language header; default: zh* → "zh-CN", en* → "en", else
	// "zh-CN".
	Language func(pref string) string
	// Guard, when set, runs before every request of a known resource and
	// format (rate limits); a non-nil *Error is answered in the request's
	// format. It may set headers such as Retry-After.
	Guard func(w http.ResponseWriter, r *http.Request) error
}
