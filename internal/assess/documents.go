package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/blob"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Document review (材料审核): a unit uploads evidence for a document
// (graded) standard of a round that is not closed, for a district or the
// city; the office reads it and grades the standard per district (or for
// the city), which stores the value exactly as an import of results
// would (SetValues).

// MaxEvidenceBytes bounds one evidence file.
const MaxEvidenceBytes = 20 << 20

// EvidenceFile is one uploaded file.
type EvidenceFile struct {
	ID         int64  `json:"id"`
	Round      string `json:"round"`
	Standard   string `json:"standard"`
	Unit       string `json:"unit"`   // unit code, "" when the office uploaded it
	Region     string `json:"region"` // district code, "" for the city
	Name       string `json:"name"`
	Mime       string `json:"mime"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	Note       string `json:"note"`
	UploadedBy string `json:"uploaded_by"`
	UploadedAt int64  `json:"uploaded_at"`
	path       string
}

// NewEvidence describes an upload.
type NewEvidence struct {
	Round, Standard string
	Region          string // a district code, "" for the city
	Name            string // the file's name as uploaded
	Note            string
}

// canUpload: a unit's handler for its unit, or the administrator.
func canUpload(a org.Actor) error {
	if a.Role == org.RoleHandler && a.UnitID != 0 || canWrite(a) == nil {
		return nil
	}
	return apperr.New(apperr.Forbidden, "forbidden")
}

// documentStandard checks that code is a document standard of the round's
// edition.
func (s *Service) documentStandard(ctx context.Context, q store.Queryer, rd Round, code string) (Standard, error) {
	ed, err := s.loadEdition(ctx, q, EditionInfo{ID: rd.EditionID, Code: rd.Edition, Version: rd.EditionVersion})
	if err != nil {
		return Standard{}, err
	}
	st, ok := ed.Standard(code)
	if !ok || st.Rule != RuleGraded {
		return Standard{}, apperr.New(apperr.Invalid, "assess.not_document", "standard", code)
	}
	return st, nil
}

// AddEvidence stores an evidence file for a document standard of a round
// that is not closed. The blob is written first; the row, with a trail
// entry, after; a failure between the two leaves a file no row names,
// which is removed.
func (s *Service) AddEvidence(ctx context.Context, actor org.Actor, in NewEvidence, r io.Reader) (EvidenceFile, error) {
	if err := canUpload(actor); err != nil {
		return EvidenceFile{}, err
	}
	if s.Blobs == nil {
		return EvidenceFile{}, fmt.Errorf("assess: no blob store for evidence")
	}
	q := s.DB.Reader()
	rd, err := openRound(ctx, q, in.Round)
	if err != nil {
		return EvidenceFile{}, err
	}
	if _, err := s.documentStandard(ctx, q, rd, in.Standard); err != nil {
		return EvidenceFile{}, err
	}
	var regionID int64
	if in.Region = strings.TrimSpace(in.Region); in.Region != "" {
		regions, err := loadRegions(ctx, q)
		if err != nil {
			return EvidenceFile{}, err
		}
		g := regions.byCode[in.Region]
		if g == nil || g.Level != LevelDistrict {
			return EvidenceFile{}, apperr.New(apperr.Invalid, "assess.not_district", "region", in.Region)
		}
		regionID = g.ID
	}
	note := strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(note) > MaxTextLen {
		return EvidenceFile{}, apperr.New(apperr.Invalid, "assess.too_long", "field", "field.note", "max", strconv.Itoa(MaxTextLen))
	}
	doc, err := blob.PutDocument(ctx, s.Blobs, "evidence", in.Name, r, MaxEvidenceBytes, s.now())
	if err != nil {
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae):
			return EvidenceFile{}, ae
		case errors.Is(err, blob.ErrDocumentEmpty):
			return EvidenceFile{}, apperr.New(apperr.Invalid, "assess.empty_file")
		case errors.Is(err, blob.ErrDocumentType):
			return EvidenceFile{}, apperr.New(apperr.Unsupported, "assess.evidence_type")
		case errors.Is(err, blob.ErrDocumentTooLarge):
			return EvidenceFile{}, apperr.New(apperr.TooLarge, "assess.evidence_too_large", "mb", strconv.Itoa(MaxEvidenceBytes>>20))
		}
		return EvidenceFile{}, fmt.Errorf("store evidence: %w", err)
	}
	key, mime := doc.Key, doc.Mime
	ev := EvidenceFile{Round: rd.Code, Standard: in.Standard, Region: in.Region, Name: doc.Name, Mime: mime, Size: doc.Size,
		SHA256: doc.SHA256, Note: note, UploadedBy: actor.Name, UploadedAt: store.Ms(s.now()), path: key}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := openRound(ctx, tx, rd.Code); err != nil {
			return err
		}
		var unit int64
		if actor.Role == org.RoleHandler {
			unit = actor.UnitID
			if err := tx.QueryRow(ctx, `SELECT code FROM units WHERE id = ?`, unit).Scan(&ev.Unit); err != nil {
				return err
			}
		}
		ev.ID, err = store.InsertID(ctx, tx, `INSERT INTO assess_evidence (round_id, standard, unit_id, region_id, name, path, mime, size, sha256, note, uploaded_by, uploaded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, rd.ID, ev.Standard, nullID(unit), nullID(regionID), ev.Name, key, mime, ev.Size, ev.SHA256, note, nullID(actor.UserID), ev.UploadedAt)
		if err != nil {
			return err
		}
		return s.trail(ctx, tx, actor, "assess.evidence", map[string]any{"round": rd.Code, "standard": ev.Standard, "region": ev.Region,
			"unit": ev.Unit, "name": ev.Name, "sha256": ev.SHA256, "size": ev.Size})
	})
	if err != nil {
		_ = s.Blobs.Delete(context.Background(), key)
		return EvidenceFile{}, err
	}
	return ev, nil
}

// EvidenceList lists a round's evidence by standard and time: the office
// sees all of it, a unit's handler its own unit's.
func (s *Service) EvidenceList(ctx context.Context, actor org.Actor, roundCode string) ([]EvidenceFile, error) {
	cond, args, err := evidenceScope(actor)
	if err != nil {
		return nil, err
	}
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, roundCode)
	if err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, q, scanEvidence, evidenceQuery+` WHERE e.round_id = ?`+cond+` ORDER BY e.standard, e.uploaded_at, e.id`, append([]any{rd.ID}, args...)...)
	for i := range out {
		out[i].Round = rd.Code
	}
	return out, err
}

func evidenceScope(actor org.Actor) (string, []any, error) {
	switch {
	case canRead(actor) == nil:
		return "", nil, nil
	case actor.Role == org.RoleHandler && actor.UnitID != 0:
		return ` AND e.unit_id = ?`, []any{actor.UnitID}, nil
	}
	return "", nil, apperr.New(apperr.Forbidden, "forbidden")
}

const evidenceQuery = `SELECT e.id, e.standard, COALESCE(u.code, ''), COALESCE(g.code, ''), e.name, e.mime, e.size, e.sha256, e.note,
	COALESCE(us.display_name, ''), e.uploaded_at, e.path
	FROM assess_evidence e LEFT JOIN units u ON u.id = e.unit_id LEFT JOIN regions g ON g.id = e.region_id LEFT JOIN users us ON us.id = e.uploaded_by`

func scanEvidence(r store.Scanner) (e EvidenceFile, err error) {
	return e, r.Scan(&e.ID, &e.Standard, &e.Unit, &e.Region, &e.Name, &e.Mime, &e.Size, &e.SHA256, &e.Note, &e.UploadedBy, &e.UploadedAt, &e.path)
}

// OpenEvidence opens an evidence file for a reader allowed to see it.
func (s *Service) OpenEvidence(ctx context.Context, actor org.Actor, roundCode string, id int64) (EvidenceFile, io.ReadCloser, error) {
	cond, args, err := evidenceScope(actor)
	if err != nil {
		return EvidenceFile{}, nil, err
	}
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, roundCode)
	if err != nil {
		return EvidenceFile{}, nil, err
	}
	ev, err := scanEvidence(q.QueryRow(ctx, evidenceQuery+` WHERE e.round_id = ? AND e.id = ?`+cond, append([]any{rd.ID, id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return EvidenceFile{}, nil, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return EvidenceFile{}, nil, err
	}
	ev.Round = rd.Code
	rc, _, err := s.Blobs.Open(ctx, ev.path)
	if errors.Is(err, blob.ErrNotFound) {
		return EvidenceFile{}, nil, apperr.New(apperr.NotFound, "not_found")
	}
	return ev, rc, err
}

// ValueIn is one value of a survey or document standard, for SetValues.
type ValueIn struct {
	Region   string `json:"region"` // a district code, "" for the city
	Standard string `json:"standard"`
	Value    string `json:"value"` // an exact decimal
}

// SetValues stores values of a round's survey and document standards (the
// office grading evidence, or entering a survey's results), checked and
// stored exactly as ImportResults stores a file.
func (s *Service) SetValues(ctx context.Context, actor org.Actor, roundCode string, values []ValueIn) ([]Problem, error) {
	if len(values) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("region,standard,value\n")
	for _, v := range values {
		for _, f := range []string{v.Region, v.Standard, v.Value} {
			if strings.ContainsAny(f, ",\"\r\n") {
				return nil, apperr.New(apperr.Invalid, "assess.bad_number", "field", "value", "value", f)
			}
		}
		b.WriteString(v.Region + "," + v.Standard + "," + v.Value + "\n")
	}
	_, ps, err := s.ImportResults(ctx, actor, roundCode, strings.NewReader(b.String()))
	return ps, err
}

// Values returns a round's values: standard → region code ("" the city)
// → value as stored.
func (s *Service) Values(ctx context.Context, actor org.Actor, roundCode string) (map[string]map[string]string, error) {
	q, rd, err := s.readRound(ctx, actor, roundCode)
	if err != nil {
		return nil, err
	}
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (x [3]string, err error) {
		return x, r.Scan(&x[0], &x[1], &x[2])
	}, `SELECT v.standard, COALESCE(g.code, ''), v.value FROM assess_results v LEFT JOIN regions g ON g.id = v.region_id WHERE v.round_id = ?`, rd.ID)
	out := map[string]map[string]string{}
	for _, x := range rows {
		if out[x[0]] == nil {
			out[x[0]] = map[string]string{}
		}
		out[x[0]][x[1]] = x[2]
	}
	return out, err
}
