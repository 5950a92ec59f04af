package assess

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sync"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Edition statuses: a draft can be used by rounds (offices trial a draft
// before publishing it); a published version never changes.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// EditionInfo is one stored version of an edition.
type EditionInfo struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"`
	Version     int    `json:"version"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	CreatedAt   int64  `json:"created_at"`   // unix ms
	PublishedAt int64  `json:"published_at"` // unix ms, 0 while a draft
}

const editionCols = `id, code, version, name, status, created_at, published_at`

func scanEdition(r store.Scanner) (e EditionInfo, err error) {
	return e, r.Scan(&e.ID, &e.Code, &e.Version, &e.Name, &e.Status, &e.CreatedAt, &e.PublishedAt)
}

// ImportTree reads an indicator tree (YAML or XLSX), checks all of it and
// stores it as a new draft version of its edition code: version 1 for a
// new code, else one more than the latest. A file with any problem stores
// nothing; the problems are returned with an assess.import_problems error.
// Site type names the program does not know yet are created.
func (s *Service) ImportTree(ctx context.Context, actor org.Actor, r io.Reader, format Format) (EditionInfo, []Problem, error) {
	if err := canWrite(actor); err != nil {
		return EditionInfo{}, nil, err
	}
	units, err := codeMap(ctx, s.DB.Reader(), `SELECT code, id FROM units`)
	if err != nil {
		return EditionInfo{}, nil, err
	}
	opt := ParseOptions{Units: map[string]bool{}}
	for c := range units {
		opt.Units[c] = true
	}
	var ed Edition
	var problems []Problem
	switch format {
	case FormatYAML:
		ed, problems = Parse(r, opt)
	case FormatXLSX:
		ed, problems = ParseXLSX(r, opt)
	default:
		return EditionInfo{}, nil, badFormat(format, FormatYAML, FormatXLSX)
	}
	if len(problems) > 0 {
		return EditionInfo{}, problems, problemsError(problems)
	}
	info := EditionInfo{Code: ed.Code, Name: ed.Name, Status: StatusDraft, CreatedAt: store.Ms(s.now())}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM assess_editions WHERE code = ?`, ed.Code).Scan(&info.Version); err != nil {
			return err
		}
		id, err := store.InsertID(ctx, tx, `INSERT INTO assess_editions (code, version, name, status, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
			info.Code, info.Version, info.Name, info.Status, info.CreatedAt, nullID(actor.UserID))
		if err != nil {
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "assess.edition_busy", "code", ed.Code)
			}
			return err
		}
		info.ID = id
		if err := insertTree(ctx, tx, id, ed, units, info.CreatedAt); err != nil {
			return err
		}
		return s.trail(ctx, tx, actor, "assess.edition_import", map[string]any{
			"edition": info.Code, "version": info.Version, "name": info.Name, "format": format,
			"standards": len(ed.Standards()), "negative": len(ed.Negative), "points": ed.Total().RatString(),
		})
	})
	if err != nil {
		return EditionInfo{}, nil, err
	}
	return info, nil, nil
}

// siteTypeIDs returns the ids of the named site types, creating those that
// do not exist yet.
func siteTypeIDs(ctx context.Context, tx *store.Tx, names []string, now int64) (map[string]int64, error) {
	ids, err := codeMap(ctx, tx, `SELECT name, id FROM assess_site_types`)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := ids[n]; ok {
			continue
		}
		id, err := store.InsertID(ctx, tx, `INSERT INTO assess_site_types (name, created_at) VALUES (?, ?)`, n, now)
		if err != nil {
			return nil, fmt.Errorf("site type %s: %w", n, err)
		}
		ids[n] = id
	}
	return ids, nil
}

func decimalOrNil(r *big.Rat) (any, error) {
	if r == nil {
		return nil, nil
	}
	return FormatDecimal(r)
}

// insertTree writes the edition's tree under the stored edition id.
func insertTree(ctx context.Context, tx *store.Tx, id int64, ed Edition, units map[string]int64, now int64) error {
	types, err := siteTypeIDs(ctx, tx, ed.SiteTypes, now)
	if err != nil {
		return err
	}
	for i, t := range ed.SiteTypes {
		if _, err := tx.Exec(ctx, `INSERT INTO assess_edition_site_types (edition_id, site_type_id, ord) VALUES (?, ?, ?)`, id, types[t], i); err != nil {
			return err
		}
	}
	for pi, p := range ed.Projects {
		pts, err := decimalOrNil(p.Points)
		if err != nil {
			return err
		}
		pid, err := store.InsertID(ctx, tx, `INSERT INTO assess_projects (edition_id, ord, code, name, points) VALUES (?, ?, ?, ?, ?)`, id, pi, p.Code, p.Name, pts)
		if err != nil {
			return err
		}
		for ci, c := range p.Contents {
			pts, err := decimalOrNil(c.Points)
			if err != nil {
				return err
			}
			cid, err := store.InsertID(ctx, tx, `INSERT INTO assess_contents (edition_id, project_id, ord, code, name, points) VALUES (?, ?, ?, ?, ?, ?)`, id, pid, ci, c.Code, c.Name, pts)
			if err != nil {
				return err
			}
			for si, st := range c.Standards {
				pts, err := FormatDecimal(st.Points)
				if err != nil {
					return err
				}
				pp, err := decimalOrNil(st.PerProblem)
				if err != nil {
					return err
				}
				sid, err := store.InsertID(ctx, tx, `INSERT INTO assess_standards (edition_id, content_id, ord, code, name, points, method, rule, per_problem, lead_unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					id, cid, si, st.Code, st.Name, pts, string(st.Method), string(st.Rule), pp, nullID(units[st.LeadUnit]))
				if err != nil {
					return err
				}
				for i, t := range st.SiteTypes {
					if _, err := tx.Exec(ctx, `INSERT INTO assess_standard_site_types (standard_id, site_type_id, ord) VALUES (?, ?, ?)`, sid, types[t], i); err != nil {
						return err
					}
				}
				for i, u := range st.CoopUnits {
					if _, err := tx.Exec(ctx, `INSERT INTO assess_standard_coops (standard_id, unit_id, ord) VALUES (?, ?, ?)`, sid, units[u], i); err != nil {
						return err
					}
				}
			}
		}
	}
	for ni, n := range ed.Negative {
		nid, err := store.InsertID(ctx, tx, `INSERT INTO assess_negative_items (edition_id, ord, code, name) VALUES (?, ?, ?, ?)`, id, ni, n.Code, n.Name)
		if err != nil {
			return err
		}
		for i, t := range n.SiteTypes {
			if _, err := tx.Exec(ctx, `INSERT INTO assess_negative_site_types (item_id, site_type_id, ord) VALUES (?, ?, ?)`, nid, types[t], i); err != nil {
				return err
			}
		}
	}
	return nil
}

// editionVersion finds a stored version of an edition code: the given
// version, or the latest (draft or published) for version 0.
func editionVersion(ctx context.Context, q store.Queryer, code string, version int) (EditionInfo, error) {
	var row *store.Row
	if version > 0 {
		row = q.QueryRow(ctx, `SELECT `+editionCols+` FROM assess_editions WHERE code = ? AND version = ?`, code, version)
	} else {
		row = q.QueryRow(ctx, `SELECT `+editionCols+` FROM assess_editions WHERE code = ? ORDER BY version DESC LIMIT 1`, code)
	}
	e, err := scanEdition(row)
	if errors.Is(err, sql.ErrNoRows) {
		return e, apperr.New(apperr.NotFound, "assess.no_edition", "code", code)
	}
	return e, err
}

// Editions lists every stored version, by code and version.
func (s *Service) Editions(ctx context.Context, actor org.Actor) ([]EditionInfo, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	return store.Collect(ctx, s.DB.Reader(), scanEdition, `SELECT `+editionCols+` FROM assess_editions ORDER BY code, version`)
}

// Edition returns a stored version of an edition code (0: the latest)
// with its tree.
func (s *Service) Edition(ctx context.Context, actor org.Actor, code string, version int) (EditionInfo, Edition, error) {
	if err := canRead(actor); err != nil {
		return EditionInfo{}, Edition{}, err
	}
	q := s.DB.Reader()
	info, err := editionVersion(ctx, q, code, version)
	if err != nil {
		return info, Edition{}, err
	}
	ed, err := s.loadEdition(ctx, q, info)
	return info, ed, err
}

// ExportTree writes a stored version of an edition (0: the latest) as
// YAML or XLSX, in the form ImportTree reads.
func (s *Service) ExportTree(ctx context.Context, actor org.Actor, code string, version int, format Format, w io.Writer) error {
	if format != FormatYAML && format != FormatXLSX {
		return badFormat(format, FormatYAML, FormatXLSX)
	}
	_, ed, err := s.Edition(ctx, actor, code, version)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if format == FormatYAML {
		err = Write(&buf, ed)
	} else {
		err = WriteXLSX(&buf, ed)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// Publish marks a draft version published; from then on it never changes.
func (s *Service) Publish(ctx context.Context, actor org.Actor, code string, version int) (EditionInfo, error) {
	if err := canWrite(actor); err != nil {
		return EditionInfo{}, err
	}
	var info EditionInfo
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		if info, err = editionVersion(ctx, tx, code, version); err != nil {
			return err
		}
		if info.Status == StatusPublished {
			return apperr.New(apperr.Conflict, "assess.published", "code", code, "version", fmt.Sprint(info.Version))
		}
		info.Status, info.PublishedAt = StatusPublished, store.Ms(s.now())
		if _, err := tx.Exec(ctx, `UPDATE assess_editions SET status = ?, published_at = ? WHERE id = ? AND status = ?`, StatusPublished, info.PublishedAt, info.ID, StatusDraft); err != nil {
			return err
		}
		return s.trail(ctx, tx, actor, "assess.edition_publish", map[string]any{"edition": code, "version": info.Version})
	})
	return info, err
}

// editionCache keeps the trees of stored editions. A stored version's
// tree never changes (a new import is a new version; publishing changes
// only its status), so a tree read once from committed rows stays true:
// the checklists, imports and scoring that read it for every site need
// not read eight tables each time.
type editionCache struct {
	mu    sync.Mutex
	trees map[int64]Edition
}

// maxCachedEditions bounds the cache; a city keeps a handful of versions.
const maxCachedEditions = 64

// loadEdition returns a stored version's tree: a copy of the cached one,
// or read from q. Only trees read outside a transaction are cached: one
// read inside a transaction might be rolled back with it, and its id
// given to another edition.
func (s *Service) loadEdition(ctx context.Context, q store.Queryer, info EditionInfo) (Edition, error) {
	s.editions.mu.Lock()
	ed, ok := s.editions.trees[info.ID]
	s.editions.mu.Unlock()
	if ok {
		ed = ed.clone()
		ed.Code, ed.Name = info.Code, info.Name // as the caller names it, like a fresh read
		return ed, nil
	}
	ed, err := readEdition(ctx, q, info)
	if _, inTx := q.(*store.Tx); err != nil || inTx {
		return ed, err
	}
	s.editions.mu.Lock()
	defer s.editions.mu.Unlock()
	if s.editions.trees == nil || len(s.editions.trees) >= maxCachedEditions {
		s.editions.trees = map[int64]Edition{}
	}
	s.editions.trees[info.ID] = ed.clone()
	return ed, nil
}

// clone copies the tree deeply (its slices and numbers), so that a caller
// changing its copy changes nobody else's.
func (ed Edition) clone() Edition {
	rat := func(r *big.Rat) *big.Rat {
		if r == nil {
			return nil
		}
		return new(big.Rat).Set(r)
	}
	out := ed
	out.SiteTypes = slices.Clone(ed.SiteTypes)
	out.Projects = slices.Clone(ed.Projects)
	for i, p := range out.Projects {
		out.Projects[i].Points = rat(p.Points)
		out.Projects[i].Contents = slices.Clone(p.Contents)
		for j, c := range out.Projects[i].Contents {
			cs := &out.Projects[i].Contents[j]
			cs.Points = rat(c.Points)
			cs.Standards = slices.Clone(c.Standards)
			for k, st := range cs.Standards {
				cs.Standards[k].Points, cs.Standards[k].PerProblem = rat(st.Points), rat(st.PerProblem)
				cs.Standards[k].SiteTypes, cs.Standards[k].CoopUnits = slices.Clone(st.SiteTypes), slices.Clone(st.CoopUnits)
			}
		}
	}
	out.Negative = slices.Clone(ed.Negative)
	for i, n := range out.Negative {
		out.Negative[i].SiteTypes = slices.Clone(n.SiteTypes)
	}
	return out
}

// readEdition reads a stored version's tree back into an Edition.
func readEdition(ctx context.Context, q store.Queryer, info EditionInfo) (Edition, error) {
	ed := Edition{Code: info.Code, Name: info.Name}
	var err error
	ed.SiteTypes, err = store.Collect(ctx, q, func(r store.Scanner) (n string, err error) { return n, r.Scan(&n) },
		`SELECT t.name FROM assess_edition_site_types x JOIN assess_site_types t ON t.id = x.site_type_id WHERE x.edition_id = ? ORDER BY x.ord`, info.ID)
	if err != nil {
		return ed, err
	}
	var bad error
	dec := func(s sql.NullString) *big.Rat {
		if !s.Valid {
			return nil
		}
		r, ok := ParseDecimal(s.String)
		if !ok && bad == nil {
			bad = fmt.Errorf("assess: edition %s v%d: stored number %q is not a decimal", info.Code, info.Version, s.String)
		}
		return r
	}
	type node struct {
		id, parent int64
		code, name string
		points     sql.NullString
	}
	scanNode := func(r store.Scanner) (n node, err error) {
		return n, r.Scan(&n.id, &n.parent, &n.code, &n.name, &n.points)
	}
	projects, err := store.Collect(ctx, q, scanNode, `SELECT id, edition_id, code, name, points FROM assess_projects WHERE edition_id = ? ORDER BY ord`, info.ID)
	if err != nil {
		return ed, err
	}
	contents, err := store.Collect(ctx, q, scanNode, `SELECT id, project_id, code, name, points FROM assess_contents WHERE edition_id = ? ORDER BY project_id, ord`, info.ID)
	if err != nil {
		return ed, err
	}
	type leaf struct {
		id, content int64
		s           Standard
		points, pp  sql.NullString
	}
	leaves, err := store.Collect(ctx, q, func(r store.Scanner) (l leaf, err error) {
		var method, rule string
		err = r.Scan(&l.id, &l.content, &l.s.Code, &l.s.Name, &l.points, &method, &rule, &l.pp, &l.s.LeadUnit)
		l.s.Method, l.s.Rule = Method(method), Rule(rule)
		return l, err
	}, `SELECT s.id, s.content_id, s.code, s.name, s.points, s.method, s.rule, s.per_problem, COALESCE(u.code, '')
		FROM assess_standards s LEFT JOIN units u ON u.id = s.lead_unit_id WHERE s.edition_id = ? ORDER BY s.content_id, s.ord`, info.ID)
	if err != nil {
		return ed, err
	}
	type member struct {
		owner int64
		name  string
	}
	scanMember := func(r store.Scanner) (m member, err error) { return m, r.Scan(&m.owner, &m.name) }
	stTypes, err := store.Collect(ctx, q, scanMember, `SELECT x.standard_id, t.name FROM assess_standard_site_types x
		JOIN assess_standards s ON s.id = x.standard_id JOIN assess_site_types t ON t.id = x.site_type_id
		WHERE s.edition_id = ? ORDER BY x.standard_id, x.ord`, info.ID)
	if err != nil {
		return ed, err
	}
	coops, err := store.Collect(ctx, q, scanMember, `SELECT x.standard_id, u.code FROM assess_standard_coops x
		JOIN assess_standards s ON s.id = x.standard_id JOIN units u ON u.id = x.unit_id
		WHERE s.edition_id = ? ORDER BY x.standard_id, x.ord`, info.ID)
	if err != nil {
		return ed, err
	}
	negatives, err := store.Collect(ctx, q, scanNode, `SELECT id, edition_id, code, name, NULL FROM assess_negative_items WHERE edition_id = ? ORDER BY ord`, info.ID)
	if err != nil {
		return ed, err
	}
	negTypes, err := store.Collect(ctx, q, scanMember, `SELECT x.item_id, t.name FROM assess_negative_site_types x
		JOIN assess_negative_items n ON n.id = x.item_id JOIN assess_site_types t ON t.id = x.site_type_id
		WHERE n.edition_id = ? ORDER BY x.item_id, x.ord`, info.ID)
	if err != nil {
		return ed, err
	}

	group := func(ms []member) map[int64][]string {
		out := map[int64][]string{}
		for _, m := range ms {
			out[m.owner] = append(out[m.owner], m.name)
		}
		return out
	}
	typesOf, coopsOf, negTypesOf := group(stTypes), group(coops), group(negTypes)
	byContent := map[int64][]Standard{}
	for _, l := range leaves {
		l.s.Points, l.s.PerProblem = dec(l.points), dec(l.pp)
		l.s.SiteTypes, l.s.CoopUnits = typesOf[l.id], coopsOf[l.id]
		byContent[l.content] = append(byContent[l.content], l.s)
	}
	byProject := map[int64][]Content{}
	for _, c := range contents {
		byProject[c.parent] = append(byProject[c.parent], Content{Code: c.code, Name: c.name, Points: dec(c.points), Standards: byContent[c.id]})
	}
	for _, p := range projects {
		ed.Projects = append(ed.Projects, Project{Code: p.code, Name: p.name, Points: dec(p.points), Contents: byProject[p.id]})
	}
	for _, n := range negatives {
		ed.Negative = append(ed.Negative, NegativeItem{Code: n.code, Name: n.name, SiteTypes: negTypesOf[n.id]})
	}
	return ed, bad
}
