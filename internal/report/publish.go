package report

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

func appendTrail(ctx context.Context, tx *store.Tx, actor org.Actor, at time.Time, action string, data any) error {
	_, err := audit.Append(ctx, tx, actor.Entry(at, action, data))
	return err
}

// Published is a stored bulletin.
type Published struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"` // 2026Q4-1: the quarter and a count
	Quarter     string `json:"quarter"`
	SHA256      string `json:"sha256"` // of Doc's bytes as stored
	Public      bool   `json:"public"`
	PublishedAt int64  `json:"published_at"`
	PublishedBy string `json:"published_by"`
	Doc         Doc    `json:"doc"`
	Inputs      Inputs `json:"inputs"`
	raw         string
}

// Publish drafts the quarter's bulletin now and stores it frozen: the
// document, its inputs and the SHA-256 of the document's bytes, which
// also goes on the audit chain. The administrator's.
func (s *Service) Publish(ctx context.Context, actor org.Actor, quarter string) (Published, error) {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return Published{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	b, err := s.Draft(ctx, actor, quarter)
	if err != nil {
		return Published{}, err
	}
	doc, _ := json.Marshal(b.Doc)
	inputs, _ := json.Marshal(b.Inputs)
	sum := sha256.Sum256(doc)
	p := Published{Quarter: b.Inputs.Quarter, SHA256: hex.EncodeToString(sum[:]), PublishedAt: b.Inputs.Cutoff, PublishedBy: actor.Name, Doc: b.Doc, Inputs: b.Inputs}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, "bulletin_"+p.Quarter).Scan(&n); err != nil {
			return err
		}
		p.Code = p.Quarter + "-" + strconv.FormatInt(n, 10)
		if p.ID, err = store.InsertID(ctx, tx, `INSERT INTO bulletins (code, quarter, doc, inputs, sha256, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.Code, p.Quarter, string(doc), string(inputs), p.SHA256, p.PublishedAt, nullID(actor.UserID)); err != nil {
			return err
		}
		return appendTrail(ctx, tx, actor, s.now(), "report.publish", map[string]any{"bulletin": p.Code, "quarter": p.Quarter, "sha256": p.SHA256})
	})
	return p, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const publishedCols = `b.id, b.code, b.quarter, b.sha256, b.public, b.published_at, COALESCE(u.display_name, ''), b.doc, b.inputs`

func scanPublished(r store.Scanner) (p Published, err error) {
	var inputs string
	if err = r.Scan(&p.ID, &p.Code, &p.Quarter, &p.SHA256, &p.Public, &p.PublishedAt, &p.PublishedBy, &p.raw, &inputs); err != nil {
		return p, err
	}
	if err = json.Unmarshal([]byte(p.raw), &p.Doc); err == nil {
		err = json.Unmarshal([]byte(inputs), &p.Inputs)
	}
	return p, err
}

// Bulletins lists the published bulletins, newest first.
func (s *Service) Bulletins(ctx context.Context, actor org.Actor) ([]Published, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	return store.Collect(ctx, s.DB.Reader(), scanPublished, `SELECT `+publishedCols+` FROM bulletins b LEFT JOIN users u ON u.id = b.published_by ORDER BY b.published_at DESC, b.id DESC`)
}

// Bulletin returns a published bulletin by its code; a public one to
// anyone when public is allowed.
func (s *Service) Bulletin(ctx context.Context, actor org.Actor, code string) (Published, error) {
	p, err := scanPublished(s.DB.Reader().QueryRow(ctx, `SELECT `+publishedCols+` FROM bulletins b LEFT JOIN users u ON u.id = b.published_by WHERE b.code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "report.no_bulletin", "code", code)
	}
	if err != nil {
		return p, err
	}
	if !p.Public {
		if err := canRead(actor); err != nil {
			return Published{}, err
		}
	}
	return p, nil
}

// SetPublic shows or hides a published bulletin at its public address.
func (s *Service) SetPublic(ctx context.Context, actor org.Actor, code string, public bool) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "report.no_bulletin", "code", code), `UPDATE bulletins SET public = ? WHERE code = ?`, public, code); err != nil {
			return err
		}
		return appendTrail(ctx, tx, actor, s.now(), "report.public", map[string]any{"bulletin": code, "public": public})
	})
}

// Difference is a figure of a published bulletin that its recomputation
// does not give.
type Difference struct {
	Path       string `json:"path"` // e.g. districts[2].index
	Published  string `json:"published"`
	Recomputed string `json:"recomputed"`
}

// Verify recomputes a published bulletin from the stored data with the
// inputs it kept (its rounds from their observations and values, its unit
// figures replayed from the trail as known at its cut-off, its settings)
// and lists every figure that differs, and whether the stored document
// still has the hash the audit chain holds.
func (s *Service) Verify(ctx context.Context, actor org.Actor, code string) ([]Difference, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	p, err := s.Bulletin(ctx, actor, code)
	if err != nil {
		return nil, err
	}
	var diffs []Difference
	sum := sha256.Sum256([]byte(p.raw))
	if hex.EncodeToString(sum[:]) != p.SHA256 {
		diffs = append(diffs, Difference{Path: "sha256", Published: p.SHA256, Recomputed: hex.EncodeToString(sum[:])})
	}
	var chained string
	// The entry was written in the publishing transaction, after the
	// cut-off: the events_at index finds it without reading the trail.
	err = s.DB.Reader().QueryRow(ctx, `SELECT data FROM events WHERE at >= ? AND action = 'report.publish' AND data LIKE ? ORDER BY seq DESC LIMIT 1`,
		p.PublishedAt, `%"bulletin":"`+code+`"%`).Scan(&chained)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var onChain struct {
		SHA256 string `json:"sha256"`
	}
	_ = json.Unmarshal([]byte(chained), &onChain)
	if onChain.SHA256 != p.SHA256 {
		diffs = append(diffs, Difference{Path: "audit.sha256", Published: onChain.SHA256, Recomputed: p.SHA256})
	}
	doc, err := s.compute(ctx, p.Inputs, s.trailFigures, true)
	if err != nil {
		return nil, fmt.Errorf("recompute %s: %w", code, err)
	}
	fresh, _ := json.Marshal(doc)
	var a, b any
	_ = json.Unmarshal([]byte(p.raw), &a)
	_ = json.Unmarshal(fresh, &b)
	diff("", a, b, &diffs)
	return diffs, nil
}

// diff lists where two JSON values differ, by path; lists of objects with
// a "code" are matched by code.
func diff(path string, a, b any, out *[]Difference) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			diff(p, x[k], y[k], out)
		}
		return
	case []any:
		y, ok := b.([]any)
		if !ok {
			break
		}
		byCode := func(xs []any) (map[string]any, []string, bool) {
			m, order := map[string]any{}, []string{}
			for _, e := range xs {
				o, ok := e.(map[string]any)
				c, ok2 := o["code"].(string)
				if !ok || !ok2 {
					return nil, nil, false
				}
				k := c
				if kind, ok := o["kind"].(string); ok {
					k = kind + ":" + c
				}
				m[k] = e
				order = append(order, k)
			}
			return m, order, true
		}
		mx, ox, okx := byCode(x)
		my, oy, oky := byCode(y)
		if okx && oky {
			for _, k := range oy {
				if _, ok := mx[k]; !ok {
					ox = append(ox, k)
				}
			}
			for _, k := range ox {
				diff(path+"["+k+"]", mx[k], my[k], out)
			}
			return
		}
		n := max(len(x), len(y))
		for i := 0; i < n; i++ {
			var ex, ey any
			if i < len(x) {
				ex = x[i]
			}
			if i < len(y) {
				ey = y[i]
			}
			diff(path+"["+strconv.Itoa(i)+"]", ex, ey, out)
		}
		return
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		*out = append(*out, Difference{Path: path, Published: string(ja), Recomputed: string(jb)})
	}
}

// LatestPublic names the newest bulletin shown to the public ("" when
// none is): anyone may read it.
func (s *Service) LatestPublic(ctx context.Context) (code, quarter string, err error) {
	err = s.DB.Reader().QueryRow(ctx, `SELECT code, quarter FROM bulletins WHERE public = TRUE ORDER BY published_at DESC, id DESC LIMIT 1`).Scan(&code, &quarter)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return code, quarter, err
}
