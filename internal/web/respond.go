package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
)

// respond writes v as JSON, or err.
func respond[T any](s *Server, w http.ResponseWriter, r *http.Request, v T, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, v)
}

// The shapes most API handlers share, written once: read a list, read a
// list about the path's {id}, create from a JSON body (201), update the
// path's {id} from a JSON body. Lists are never null.

func listJSON[T any](s *Server, read func(context.Context) ([]T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := read(r.Context())
		respond(s, w, r, nonNil(v), err)
	}
}

func listByIDJSON[T any](s *Server, read func(context.Context, org.Actor, int64) ([]T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v, err := read(r.Context(), actorOf(r), id)
		respond(s, w, r, nonNil(v), err)
	}
}

func createJSON[T, R any](s *Server, create func(context.Context, org.Actor, T) (R, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in T
		if err := decodeJSON(r, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		out, err := create(r.Context(), actorOf(r), in)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	}
}

func updateJSON[T any](s *Server, update func(context.Context, org.Actor, int64, T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var in T
		if err := decodeJSON(r, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		respond(s, w, r, map[string]bool{"ok": true}, update(r.Context(), actorOf(r), id, in))
	}
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// status maps an error code to its HTTP status: the one place where
// domain failures become HTTP.
func status(code apperr.Code) int {
	if st, ok := statusOf[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

var statusOf = map[apperr.Code]int{
	apperr.Invalid:      http.StatusBadRequest,
	apperr.Unauthorized: http.StatusUnauthorized,
	apperr.Forbidden:    http.StatusForbidden,
	apperr.NotFound:     http.StatusNotFound,
	apperr.NotAllowed:   http.StatusMethodNotAllowed,
	apperr.Conflict:     http.StatusConflict,
	apperr.TooLarge:     http.StatusRequestEntityTooLarge,
	apperr.Unsupported:  http.StatusUnsupportedMediaType,
	apperr.RateLimited:  http.StatusTooManyRequests,
	apperr.Unavailable:  http.StatusServiceUnavailable,
}

func errUnauthorized(key string) error { return apperr.New(apperr.Unauthorized, key) }

func errInvalid(key string, args ...string) error {
	return apperr.New(apperr.Invalid, key, args...)
}

// message turns err into the user's language; internal errors are logged
// and shown as a generic message so no detail leaks.
func (s *Server) message(r *http.Request, err error) (apperr.Code, string) {
	e, ok := apperr.As(err)
	if !ok {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.TooLarge, s.Msg.T(s.lang(r), "body_too_large", "mb", itoa(mbe.Limit>>20))
		}
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			// the client went away (a closed tab, a timeout of its own):
			// nothing failed on this side, and no one reads the answer
			s.Log.Info("request ended by the client", "method", r.Method, "path", r.URL.Path)
			return apperr.Internal, s.Msg.T(s.lang(r), "internal")
		}
		s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return apperr.Internal, s.Msg.T(s.lang(r), "internal")
	}
	args := e.Args
	for i := 1; i < len(args); i += 2 {
		// An argument that is a catalogue key of a field's name is said
		// in the user's language ("note" is 说明).
		if strings.HasPrefix(args[i], "field.") && s.Msg.Has(args[i]) {
			args = slices.Clone(args)
			args[i] = s.Msg.T(s.lang(r), args[i])
		}
	}
	return e.Code, s.Msg.T(s.lang(r), e.Key, args...)
}

// apiError is the JSON error body of the API.
type apiError struct {
	Error errorBody `json:"error"`
}

// errorBody is what went wrong: the error's code and its words in the
// reader's language.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// failJSON writes err as the API's JSON error.
func (s *Server) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.message(r, err)
	var body apiError
	body.Error.Code, body.Error.Message = string(code), msg
	writeJSON(w, status(code), body)
}

// fail answers err in the form the request expects: JSON for the API, a
// page for the console.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) || strings.HasPrefix(r.Header.Get("Accept"), "application/json") {
		s.failJSON(w, r, err)
		return
	}
	code, msg := s.message(r, err)
	if code == apperr.Unauthorized {
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	st := status(code)
	title := "ui.error_title"
	switch st {
	case http.StatusNotFound, http.StatusForbidden, http.StatusInternalServerError:
		title = "ui.error_title_" + strconv.Itoa(st)
	}
	s.renderStatus(w, r, st, "error", map[string]any{"Message": msg, "Status": st, "Title": title})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// ---- administration ----

// adminDone redirects back to an admin page after a write, or shows the
// page again with the error.
// adminForm answers an administrator's form post: the form is read, save
// runs, and the browser goes back to the list (…?msg=saved) or sees the
// form again with the error in its language.
func (s *Server) adminForm(w http.ResponseWriter, r *http.Request, back string, show func(code int, msg string), save func() error) {
	err := s.parseForm(r)
	if err == nil {
		err = save()
	}
	s.adminDone(w, r, back, err, show)
}

func (s *Server) adminDone(w http.ResponseWriter, r *http.Request, back string, err error, show func(code int, msg string)) {
	if err != nil {
		code, msg := s.message(r, err)
		show(status(code), msg)
		return
	}
	http.Redirect(w, r, back+"?msg=saved", http.StatusSeeOther)
}

// loader runs a page's reads in order: after the first error the later
// ones are skipped, and the handler answers that error once.
type loader struct{ err error }

// load runs read unless an earlier read of l failed.
func load[T any](l *loader, read func() (T, error)) T {
	var v T
	if l.err == nil {
		v, l.err = read()
	}
	return v
}

// actorListJSON answers a GET with what read returns for the caller; a list
// is never null.
func actorListJSON[T any](s *Server, read func(context.Context, org.Actor) ([]T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := read(r.Context(), actorOf(r))
		respond(s, w, r, nonNil(v), err)
	}
}

// codeJSON answers a request about the path's {code} (a round, a site)
// with what do returns for the caller.
func codeJSON[T any](s *Server, do func(context.Context, org.Actor, string) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := do(r.Context(), actorOf(r), r.PathValue("code"))
		respond(s, w, r, v, err)
	}
}

// codeListJSON is codeJSON for a list, never null.
func codeListJSON[T any](s *Server, read func(context.Context, org.Actor, string) ([]T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := read(r.Context(), actorOf(r), r.PathValue("code"))
		respond(s, w, r, nonNil(v), err)
	}
}
