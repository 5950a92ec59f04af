// Package privacy keeps the personal-data duties of 个人信息保护法 that
// span the other packages: erasing reporters' and volunteers' personal
// data once the retention period has passed (a background job), and the
// access log of who viewed personal data. docs/security.md tells the
// rules.
package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Service erases and logs over one database.
type Service struct {
	DB  *store.DB
	Now func() time.Time // nil: the wall clock
	Log *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// Settings are the office's retention choice.
type Settings struct {
	// RetentionDays: a finished case's reporter data (name, phone, email,
	// device, what a client system sent about them) and a volunteer
	// registration that was rejected or never decided are erased this
	// many days after their last change; 0 keeps them.
	RetentionDays int `json:"retention_days"`
}

const (
	settingsKey  = "privacy"
	watermarkKey = "privacy.erased_before"
)

// DefaultSettings: a year.
func DefaultSettings() Settings { return Settings{RetentionDays: 365} }

// Settings returns the stored settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return store.ReadSetting(ctx, s.DB.Reader(), settingsKey, DefaultSettings())
}

// SaveSettings stores the settings (the administrator's), with a trail
// entry.
func (s *Service) SaveSettings(ctx context.Context, actor org.Actor, st Settings) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if st.RetentionDays < 0 || st.RetentionDays > 3650 || st.RetentionDays > 0 && st.RetentionDays < 30 {
		return apperr.New(apperr.Invalid, "privacy.bad_retention")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, settingsKey, st); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, actor.Entry(s.now(), "privacy.settings", st))
		return err
	})
}

// Erased counts what one run erased.
type Erased struct {
	Cases      int   `json:"cases"`
	Volunteers int   `json:"volunteers"`
	Before     int64 `json:"before"` // the cut-off, unix ms
}

// finishedStates are the states after which a case needs its reporter no
// more (a closed case reopened later is no longer in them).
const finishedStates = `('closed','rejected','merged','voided')`

// batch bounds one erasing statement, so that the write lock is held
// briefly however much is due.
const batch = 500

// Erase erases the personal data whose retention period has passed as of
// now: the reporter fields of finished cases last changed before the
// cut-off (and their receipts' device ids), and the registrations of
// volunteers rejected or never decided before it (name, phone, identity
// number, password; the row stays, so that nothing that points at it
// breaks). Anything else about the case or the volunteer stays. One
// trail entry counts what was erased.
func (s *Service) Erase(ctx context.Context, actor org.Actor) (Erased, error) {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return Erased{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	st, err := s.Settings(ctx)
	if err != nil || st.RetentionDays <= 0 {
		return Erased{}, err
	}
	now := s.now()
	cut := store.Ms(now.AddDate(0, 0, -st.RetentionDays))
	out := Erased{Before: cut}
	// The cases last changed before the previous run's cut-off were looked
	// at then (a later change moves updated_at past it): each run reads
	// only the cases that aged since, through the index cases_updated.
	from, err := store.ReadSetting(ctx, s.DB.Reader(), watermarkKey, int64(0))
	if err != nil {
		return out, err
	}
	for {
		ids, err := store.Int64s(ctx, s.DB.Reader(), `SELECT id FROM cases WHERE updated_at >= ? AND updated_at < ? AND state IN `+finishedStates+`
			AND (reporter_phone <> '' OR reporter_name <> '' OR reporter_email <> '' OR reporter_device <> '' OR client_fields <> '') LIMIT `+fmt.Sprint(batch), from, cut)
		if err != nil {
			return out, fmt.Errorf("cases to erase: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		in := store.In(len(ids))
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
			// updated_at is left alone: erasing is not a change of the case.
			if _, err := tx.Exec(ctx, `UPDATE cases SET reporter_name = '', reporter_phone = '', reporter_email = '', reporter_device = '', client_fields = ''
				WHERE id IN `+in+` AND state IN `+finishedStates, args...); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE receipts SET device_id = '' WHERE case_id IN `+in, args...)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("erase reporters: %w", err)
		}
		out.Cases += len(ids)
	}
	res, err := s.DB.Exec(ctx, `UPDATE volunteers SET name = '', phone = '', id_sealed = '', id_masked = '', id_hash = 'erased:' || CAST(id AS TEXT),
		national_no = '', skills = '', password_hash = ''
		WHERE (status = 'rejected' AND decided_at < ? OR status = 'pending' AND created_at < ?) AND id_hash NOT LIKE 'erased:%'`, cut, cut)
	if err != nil {
		return out, fmt.Errorf("erase volunteers: %w", err)
	}
	n, _ := res.RowsAffected()
	out.Volunteers = int(n)
	// Status messages that could not be sent keep their number only as
	// long as the rest.
	if _, err := s.DB.Exec(ctx, `UPDATE sms_outbox SET phone = '', status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END
		WHERE phone <> '' AND created_at < ?`, cut); err != nil {
		return out, fmt.Errorf("erase message numbers: %w", err)
	}
	return out, s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, watermarkKey, max(from, cut)); err != nil {
			return err
		}
		if out.Cases+out.Volunteers == 0 {
			return nil
		}
		_, err := audit.Append(ctx, tx, actor.Entry(now, "privacy.erase", out))
		return err
	})
}

// Run erases what is due every interval until ctx ends (replicas may run
// it side by side: erasing twice erases nothing more).
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if e, err := s.Erase(ctx, org.System); err != nil && ctx.Err() == nil {
			s.log().Error("personal data retention", "err", err)
		} else if e.Cases+e.Volunteers > 0 {
			s.log().Info("personal data erased", "cases", e.Cases, "volunteers", e.Volunteers)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Kinds of personal data access.
const (
	KindReporter   = "reporter"    // a case's reporter, on the case page or in its JSON
	KindCaseExport = "case_export" // a case list exported with the reporters' columns
	KindCaseList   = "case_list"   // a page of the case list's JSON with reporters
	KindPhone      = "phone_search"
	KindVolunteer  = "volunteer" // a volunteer's full record
	KindVolExport  = "volunteer_export"
)

// Kinds are the access log's kinds, in the order the console lists them.
var Kinds = []string{KindReporter, KindCaseList, KindCaseExport, KindPhone, KindVolunteer, KindVolExport}

// Access is a line of the access log.
type Access struct {
	ID      int64  `json:"id"`
	At      int64  `json:"at"`
	UserID  int64  `json:"user_id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Kind    string `json:"kind"`
	Subject int64  `json:"subject"` // the case or volunteer id; 0 for an export or search
	Detail  string `json:"detail,omitempty"`
	Address string `json:"address,omitempty"`
}

// Record writes a line of the access log: actor viewed personal data of
// kind about subject (detail: the route, a search, an export's size).
// A failure is logged, not returned: the reader already has the page.
func (s *Service) Record(ctx context.Context, actor org.Actor, kind string, subject int64, detail, address string) {
	detail = phoneDigits.ReplaceAllStringFunc(detail, func(p string) string { return p[:3] + "****" + p[len(p)-4:] })
	if len(detail) > 300 {
		detail = strings.ToValidUTF8(detail[:300], "")
	}
	_, err := s.DB.Exec(ctx, `INSERT INTO personal_access (at, user_id, name, role, kind, subject, detail, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		store.Ms(s.now()), nullable(actor.UserID), actor.Name, string(actor.Role), kind, subject, detail, address)
	if err != nil {
		s.log().Error("personal data access log", "err", err)
	}
}

// phoneDigits finds phone numbers (a search for one, an export's query)
// so that the log keeps them masked: it says a number was looked up, not
// which.
var phoneDigits = regexp.MustCompile(`[0-9]{7,}`)

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// AccessFilter narrows the access log.
type AccessFilter struct {
	UserID  int64
	Kind    string
	Subject int64
	Limit   int
}

// Accesses lists the access log, newest first (the administrator's).
func (s *Service) Accesses(ctx context.Context, actor org.Actor, f AccessFilter) ([]Access, error) {
	if actor.Role != org.RoleAdmin {
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	where, args := []string{"1=1"}, []any{}
	if f.UserID != 0 {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if f.Kind != "" {
		if !slices.Contains(Kinds, f.Kind) {
			return nil, apperr.New(apperr.Invalid, "privacy.bad_kind", "kind", f.Kind)
		}
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Subject != 0 {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (a Access, err error) {
		return a, r.Scan(&a.ID, &a.At, &a.UserID, &a.Name, &a.Role, &a.Kind, &a.Subject, &a.Detail, &a.Address)
	}, `SELECT id, at, COALESCE(user_id, 0), name, role, kind, subject, detail, address FROM personal_access WHERE `+strings.Join(where, " AND ")+`
		ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
}
