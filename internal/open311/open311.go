package open311

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Limits of the protocol layer.
const (
	// DefaultPageSize is the specification's "first 1000 requests"; with
	// the 90-day default window it is what a client that never pages
	// (FixMyStreet) receives.
	DefaultPageSize = 1000
	MaxPageSize     = 1000
	MaxPage         = 1_000_000
	// IDChunk is how many service_request_id values the handler passes to
	// the Backend at once; a longer list is answered chunk by chunk, each
	// written before the next is read.
	IDChunk        = 500
	MaxDescription = 4000 // characters (runes), a CR LF pair counting as one
	MaxMediaURLs   = 20
	MaxSpan        = 90 * 24 * time.Hour
	// DefaultMaxBodyBytes bounds a form body without files: room for a
	// 4,000-character description and for tens of thousands of
	// service_request_id values.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxUploadBytes bounds a multipart body with files.
	DefaultMaxUploadBytes = 64 << 20
)

// UpdatesSpecification names mySociety's servicerequestupdates extension
// in discovery.
const UpdatesSpecification = "https://github.com/mysociety/fixmystreet/wiki/Open311-FMS---Proposed-differences-to-Open311"

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
	// Status is open or closed, or with View.ExtendedStatuses one of the
	// detailed statuses (Status* constants, lower case).
	ID, Status, StatusNotes, ServiceName, ServiceCode, Description string
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
	// Description has its line breaks as LF (a CR LF pair or a lone CR
	// becomes one LF).
	Description string
	MediaURLs   []string // http(s) links, in the order given
	// Uploads holds the files of a multipart POST (nil when none); the
	// handler closes it after Create returns, so a Backend that keeps the
	// files must say so to its own implementation.
	Uploads Uploads
}

// Uploads receives the files of a multipart POST as they stream in
// (Options.NewUploads makes one per request).
type Uploads interface {
	// Save stores one file part; an *Error refuses the request (a wrong
	// type is 415, too many or too large 400 or 413).
	Save(ctx context.Context, field string, r io.Reader) error
	// Close removes what was saved unless the Backend kept it.
	Close()
}

// Detailed statuses (mySociety's extension, as FixMyStreet reads them): a
// request's status with View.ExtendedStatuses, in lower case; an update's
// status always, in upper case.
const (
	StatusOpen             = "open"
	StatusInvestigating    = "investigating"
	StatusInProgress       = "in_progress"
	StatusActionScheduled  = "action_scheduled"
	StatusFixed            = "fixed"
	StatusClosed           = "closed"
	StatusDuplicate        = "duplicate"
	StatusNotResponsible   = "not_councils_responsibility"
	StatusNoFurtherAction  = "no_further_action"
	StatusInternalReferral = "internal_referral"
)

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
	View
}

// View is how requests are written: extensions=true adds attributes,
// extended_attributes and notes; extended_statuses=true (or
// Options.ExtendedStatuses) asks for the detailed statuses.
type View struct {
	Extensions, ExtendedStatuses bool
}

// Update is one change of a request in mySociety's servicerequestupdates
// extension: a change of status, with the public text that came with it.
type Update struct {
	ID, RequestID string
	Status        string // upper case: OPEN, IN_PROGRESS, FIXED, DUPLICATE, ...
	At            time.Time
	Description   string
	MediaURL      string
}

// UpdateQuery is a parsed GET servicerequestupdates.{fmt}: updates whose
// time is within [Start, End].
type UpdateQuery struct {
	Start, End time.Time
}

// NewUpdate is a parsed POST servicerequestupdates.{fmt}: a client's
// comment on one of its requests.
type NewUpdate struct {
	APIKey, JurisdictionID  string
	RequestID               string // service_request_id
	UpdateID                string // the client's own id of the update (its idempotency key)
	Status                  string // as the client sent it, upper case
	At                      time.Time
	Description             string
	FirstName, LastName     string
	Email, Phone, AccountID string
	ServiceCode             string
	MediaURLs               []string
	Attributes              map[string][]string
	Uploads                 Uploads
}

// UpdatesBackend is what a Backend implements to serve the
// servicerequestupdates extension; without it the resource is 404 and
// discovery does not list it.
type UpdatesBackend interface {
	// Updates calls yield for each update in q's window, oldest first,
	// and stops at yield's first error.
	Updates(ctx context.Context, lang string, q UpdateQuery, yield func(Update) error) error
	// PostUpdate checks the api_key (Forbidden) and the request
	// (NotFound, or Forbidden when it is not the client's), then records
	// the update once per (client, UpdateID) and returns its id.
	PostUpdate(ctx context.Context, r *http.Request, in NewUpdate) (id string, err error)
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
	// Requests answers a query; with q.IDs set it is given at most
	// IDChunk of them.
	Requests(ctx context.Context, lang string, q Query) ([]Request, error)
	// Request returns NotFound for an unknown id.
	Request(ctx context.Context, lang, id string, v View) (Request, error)
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
	MaxBodyBytes int64        // POST body limit without files, default DefaultMaxBodyBytes
	// MaxUploadBytes bounds a multipart body with files (default
	// DefaultMaxUploadBytes); its text fields together stay within
	// MaxBodyBytes.
	MaxUploadBytes int64
	// NewUploads, when set, accepts file parts in multipart POSTs (photos
	// sent by the client instead of media_url); nil refuses them with 400.
	NewUploads func(r *http.Request) Uploads
	// ExtendedStatuses writes the detailed statuses in requests by
	// default, as if every client asked extended_statuses=true.
	ExtendedStatuses bool
	Now              func() time.Time
	Location         *time.Location // zone of written times, default UTC
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
