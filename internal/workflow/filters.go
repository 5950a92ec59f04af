package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// SavedFilter is a case-list filter a user keeps under a name (常用筛选):
// the list's query string, without its page.
type SavedFilter struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Query string `json:"query"` // e.g. "queue=to_dispatch&warning=2"
}

// Limits of saved filters.
const (
	MaxSavedFilters    = 30
	maxFilterNameRunes = 40
	maxFilterQuery     = 2000
)

// FilterParams are the query parameters a saved filter may hold: the
// list's filters and order (not its page, cursor or size).
var FilterParams = []string{"queue", "state", "category_id", "unit_id", "region_id", "cell_id", "warning", "closed_from", "closed_to",
	"supervised", "from", "to", "no", "q", "sort", "exact"}

// SaveFilter keeps query under name for actor, replacing a filter of the
// same name. Parameters other than FilterParams, and empty ones, are
// dropped; a filter with nothing left is refused.
func (s *Service) SaveFilter(ctx context.Context, actor org.Actor, name, query string) (SavedFilter, error) {
	name = strings.TrimSpace(name)
	if actor.UserID == 0 {
		return SavedFilter{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	if name == "" || utf8.RuneCountInString(name) > maxFilterNameRunes {
		return SavedFilter{}, apperr.New(apperr.Invalid, "filter.bad_name", "max", fmt.Sprint(maxFilterNameRunes))
	}
	q, err := url.ParseQuery(strings.TrimPrefix(strings.TrimSpace(query), "?"))
	if err != nil || len(query) > maxFilterQuery {
		return SavedFilter{}, apperr.New(apperr.Invalid, "filter.bad_query")
	}
	for k, vs := range q {
		vs = slices.DeleteFunc(vs, func(v string) bool { return strings.TrimSpace(v) == "" })
		if !slices.Contains(FilterParams, k) || len(vs) == 0 {
			delete(q, k)
			continue
		}
		q[k] = vs
	}
	if len(q) == 0 {
		return SavedFilter{}, apperr.New(apperr.Invalid, "filter.empty")
	}
	f := SavedFilter{Name: name, Query: q.Encode()}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE saved_filters SET query = ? WHERE user_id = ? AND name = ? RETURNING id`, f.Query, actor.UserID, f.Name).Scan(&f.ID)
		if !errors.Is(err, sql.ErrNoRows) {
			return err // nil: replaced
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM saved_filters WHERE user_id = ?`, actor.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxSavedFilters {
			return apperr.New(apperr.Conflict, "filter.too_many", "max", fmt.Sprint(MaxSavedFilters))
		}
		f.ID, err = store.InsertID(ctx, tx, `INSERT INTO saved_filters (user_id, name, query, created_at) VALUES (?, ?, ?, ?)`,
			actor.UserID, f.Name, f.Query, store.Ms(s.now()))
		return err
	})
	if err != nil {
		return SavedFilter{}, fmt.Errorf("save filter: %w", err)
	}
	return f, nil
}

// SavedFilters lists actor's saved filters by name.
func (s *Service) SavedFilters(ctx context.Context, actor org.Actor) ([]SavedFilter, error) {
	out, err := store.Collect(ctx, s.DB.Reader(), func(row store.Scanner) (f SavedFilter, err error) {
		return f, row.Scan(&f.ID, &f.Name, &f.Query)
	}, `SELECT id, name, query FROM saved_filters WHERE user_id = ? ORDER BY name`, actor.UserID)
	if err != nil {
		return nil, fmt.Errorf("list saved filters: %w", err)
	}
	return out, nil
}

// DeleteFilter removes one of actor's saved filters; another user's is
// not found.
func (s *Service) DeleteFilter(ctx context.Context, actor org.Actor, id int64) error {
	res, err := s.DB.Exec(ctx, `DELETE FROM saved_filters WHERE id = ? AND user_id = ?`, id, actor.UserID)
	if err != nil {
		return fmt.Errorf("delete saved filter: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "filter.not_found")
	}
	return nil
}
