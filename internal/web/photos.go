package web

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/workflow"
)

// photoRoutes lists the routes of case photos: originals for staff, derived versions for the public.
func (s *Server) photoRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/cases/{id}/photos/{photo}", api: true, summary: "A photo file of a case", resp: "binary", h: s.handlePhoto},
		{method: "GET", path: "/api/v1/public/photos/{no}/{photo}/{variant}", api: true, public: true, summary: "A derived (metadata-free) version of a case photo: large or thumb", resp: "binary", h: s.apiPublicPhoto},
		{method: "GET", path: "/track/{code}/photos/{photo}/{variant}", public: true, h: s.handleTrackPhoto},
		{method: "GET", path: "/cases/{id}/photos/{photo}", h: s.handlePhoto},
	}
}

// maxPhotos bounds the photos of one submission.
const maxPhotos = 9

// savePhotos stores the files of the multipart field "photo" among the
// request's uploads (which remove them again unless the case is written).
func (s *Server) savePhotos(r *http.Request, up *photo.Uploads) ([]photo.File, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var files []*multipart.FileHeader
	for _, fh := range r.MultipartForm.File["photo"] {
		if fh.Size > 0 || fh.Filename != "" {
			files = append(files, fh)
		}
	}
	if len(files) > maxPhotos {
		return nil, errInvalid("photo.too_many", "max", itoa(maxPhotos))
	}
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		_, err = up.Save(r.Context(), f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return up.Files(), nil
}

// handlePhoto serves a case photo to a reader of the case: a derived
// version (v=large, the default, or v=thumb) with all metadata removed.
// Only the office (admin, acceptor) may open the original (v=original),
// which may carry the reporter's GPS position.
func (s *Server) handlePhoto(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pid, err := pathID(r, "photo")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.Flow.Photo(r.Context(), actorOf(r), id, pid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := r.URL.Query().Get("v")
	switch v {
	case "":
		v = "large"
	case "large", "thumb":
	case "original":
		if a := actorOf(r); a.Role != org.RoleAdmin && a.Role != org.RoleAcceptor {
			s.fail(w, r, apperr.New(apperr.Forbidden, "photo.original_forbidden"))
			return
		}
	default:
		s.fail(w, r, apperr.New(apperr.NotFound, "photo.not_found"))
		return
	}
	s.servePhotoVariant(w, r, p, v)
}

// handleTrackPhoto serves a derived version of a case photo to the holder
// of the case's receipt. Originals are never served here.
func (s *Server) handleTrackPhoto(w http.ResponseWriter, r *http.Request) {
	s.publicPhoto(w, r, func() ([]workflow.Photo, error) {
		t, err := s.Intake.Track(r.Context(), r.PathValue("code"))
		if err != nil {
			return nil, err
		}
		return t.Case.Photos, nil
	})
}

// publicPhoto serves the {photo} of those listed, if it is a before or
// after photo, in the {variant} asked for (thumb or large: never the
// original).
func (s *Server) publicPhoto(w http.ResponseWriter, r *http.Request, photos func() ([]workflow.Photo, error)) {
	if !s.publicGuard(w, r, false) {
		return
	}
	pid, err := pathID(r, "photo")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	variant := r.PathValue("variant")
	if variant != "thumb" && variant != "large" {
		s.fail(w, r, apperr.New(apperr.NotFound, "photo.not_found"))
		return
	}
	ps, err := photos()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, p := range ps {
		if p.ID == pid && (p.Kind == "before" || p.Kind == "after") {
			s.servePhotoVariant(w, r, p, variant)
			return
		}
	}
	s.fail(w, r, apperr.New(apperr.NotFound, "photo.not_found"))
}

// servePhotoVariant writes a derived version (or, for the office, the
// original when variant is "original").
func (s *Server) servePhotoVariant(w http.ResponseWriter, r *http.Request, p workflow.Photo, variant string) {
	key, mime := p.VariantKey(variant), "image/jpeg"
	if variant == "original" {
		key, mime = p.Path, p.Mime
	}
	if key == "" {
		if p.Failed {
			s.fail(w, r, apperr.New(apperr.NotFound, "photo.failed"))
			return
		}
		w.Header().Set("Retry-After", "2")
		s.fail(w, r, apperr.New(apperr.Unavailable, "photo.processing"))
		return
	}
	rc, size, err := s.Flow.Photos.Open(r.Context(), key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("ETag", `"`+p.SHA256[:16]+"-"+variant+`"`)
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", p.Created, rs)
		return
	}
	if size > 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	if _, err := io.Copy(w, rc); err != nil && !errors.Is(err, r.Context().Err()) {
		s.Log.Warn("photo copy", "err", err)
	}
}

// apiPublicPhoto serves a derived version of a before or after photo of a
// public case by case number (Open311 media_url). Never the original.
func (s *Server) apiPublicPhoto(w http.ResponseWriter, r *http.Request) {
	s.publicPhoto(w, r, func() ([]workflow.Photo, error) {
		c, err := s.Flow.PublicCase(r.Context(), r.PathValue("no"))
		if err != nil || c == nil {
			return nil, err
		}
		return c.Photos, nil
	})
}
