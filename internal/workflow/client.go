package workflow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
)

// Client systems (Open311 partners such as a hotline or FixMyStreet) send
// more than a case uses. What they send is kept with the case as received,
// for the office to read (acceptors and administrators: it may name the
// reporter), never for units, and never published.

// ClientFields is what a client system sent with a case beyond the case's
// own fields.
type ClientFields struct {
	// Client is the name of the API token that filed the case: only that
	// client may post updates to it.
	Client    string   `json:"client"`
	MediaURLs []string `json:"media_urls,omitempty"`
	// Attributes are the ones the category does not define (FixMyStreet's
	// extra fields: uprn, title, its own report id...), as received.
	Attributes map[string][]string `json:"attributes,omitempty"`
}

func (f *ClientFields) encode() string {
	if f == nil {
		return ""
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// CaseClientFields returns what the client sent with case id; nil when the
// case came through another channel. Callers have checked the reader's
// access to the case.
func (s *Service) CaseClientFields(ctx context.Context, id int64) (*ClientFields, error) {
	var raw string
	err := s.DB.Reader().QueryRow(ctx, `SELECT client_fields FROM cases WHERE id = ?`, id).Scan(&raw)
	if err != nil || raw == "" {
		return nil, err
	}
	var f ClientFields
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return nil, fmt.Errorf("case %d client fields: %w", id, err)
	}
	return &f, nil
}

// ClientFieldsOf returns the client fields of several cases in one query,
// by case; cases of other channels are absent.
func (s *Service) ClientFieldsOf(ctx context.Context, ids []int64) (map[int64]*ClientFields, error) {
	out := map[int64]*ClientFields{}
	if len(ids) == 0 {
		return out, nil
	}
	err := store.Each(ctx, s.DB.Reader(), func(r store.Scanner) error {
		var id int64
		var raw string
		if err := r.Scan(&id, &raw); err != nil {
			return err
		}
		var f ClientFields
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			return fmt.Errorf("case %d client fields: %w", id, err)
		}
		out[id] = &f
		return nil
	}, `SELECT id, client_fields FROM cases WHERE id IN (`+idList(ids)+`) AND client_fields <> ''`)
	return out, err
}

// ActionClientUpdate is the trail's action for a client's update
// (外部系统更新): a comment from the client system, not a change of state.
const ActionClientUpdate = "client.update"

// ClientUpdate is a client's update to one of its cases.
type ClientUpdate struct {
	UpdateID    string // the client's own id, its idempotency key
	Status      string // the status the client gave, as received
	At          time.Time
	Description string
	MediaURLs   []string
	Attributes  map[string][]string
	Photos      []photo.File
}

// PostClientUpdate records u on case no, filed by the same client, as a
// trail event with its photos; a repeated UpdateID returns the event of
// the first. It answers the event's sequence number.
func (s *Service) PostClientUpdate(ctx context.Context, actor org.Actor, no string, u ClientUpdate) (int64, error) {
	if actor.Role != org.RoleClient {
		return 0, apperr.New(apperr.Forbidden, "forbidden")
	}
	if len([]rune(u.Description)) > MaxClientDescription {
		return 0, apperr.New(apperr.Invalid, "case.description_too_long", "max", fmt.Sprint(MaxClientDescription))
	}
	var seq int64
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var id int64
		var raw string
		var staffOnly bool
		err := tx.QueryRow(ctx, `SELECT c.id, c.client_fields, cat.staff_only FROM cases c JOIN categories cat ON cat.id = c.category_id WHERE c.no = ?`, no).
			Scan(&id, &raw, &staffOnly)
		if errors.Is(err, sql.ErrNoRows) || staffOnly {
			return apperr.New(apperr.NotFound, "open311.unknown_request", "id", no)
		}
		if err != nil {
			return fmt.Errorf("load case %s: %w", no, err)
		}
		var f ClientFields
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &f); err != nil {
				return fmt.Errorf("case %s client fields: %w", no, err)
			}
		}
		if f.Client == "" || f.Client != actor.Name {
			return apperr.New(apperr.Forbidden, "open311.not_your_request", "id", no)
		}
		var was int64
		err = tx.QueryRow(ctx, `SELECT event_seq, case_id FROM client_updates WHERE client = ? AND update_id = ?`, actor.Name, u.UpdateID).Scan(&seq, &was)
		if err == nil && was != id {
			return apperr.New(apperr.Conflict, "open311.update_id_reused", "id", u.UpdateID)
		}
		if err == nil {
			return nil // a retry: the first one stands
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := s.now()
		data := map[string]any{"client_update_id": u.UpdateID}
		// (The name of who wrote it, which a client may send, is not
		// kept: the trail is permanent and the case's units read it.)
		if u.Status != "" {
			data["status"] = u.Status
		}
		if !u.At.IsZero() {
			data["client_at"] = u.At.UTC().Format(time.RFC3339)
		}
		if len(u.MediaURLs) > 0 {
			data["media_urls"] = u.MediaURLs
		}
		if len(u.Attributes) > 0 {
			data["attributes"] = u.Attributes
		}
		if len(u.Photos) > 0 {
			data["photos"] = photoDigests(u.Photos)
		}
		if seq, err = s.appendEvent(ctx, tx, actor, now, id, ActionClientUpdate, "", "", u.Description, data, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO client_updates (client, update_id, case_id, event_seq, created_at) VALUES (?, ?, ?, ?, ?)`,
			actor.Name, u.UpdateID, id, seq, store.Ms(now)); err != nil {
			return fmt.Errorf("record client update: %w", err)
		}
		return s.PhotoJobs.Insert(ctx, tx, id, "evidence", seq, now, u.Photos)
	})
	if store.IsUniqueViolation(err) {
		// The same update raced itself: the winner's event answers.
		err = s.DB.Reader().QueryRow(ctx, `SELECT event_seq FROM client_updates WHERE client = ? AND update_id = ?`, actor.Name, u.UpdateID).Scan(&seq)
	}
	return seq, err
}

// MaxClientDescription is the longest text a client system may send (the
// Open311 limit).
const MaxClientDescription = 4000

// PublicUpdate is one change of state of a public case, as the updates
// feed reports it: no names, and text only where the public already sees
// it (the unit's reply, 处理反馈).
type PublicUpdate struct {
	Seq    int64
	CaseNo string
	At     time.Time
	Action Action
	To     State
	Reply  string
	// PhotoID is the first ready photo that came with the reply (the
	// after photo), 0 when none.
	PhotoID int64
	caseID  int64
}

// updatesChunk is how many events one query of the updates feed reads;
// seqMargin how far the trail's order may stray from its times.
var updatesChunk = 500 // a variable for the tests

const seqMargin = 1000

// PublicUpdates calls yield for each change of state of a public case
// after its report
// whose time is within [from, to], in trail order, reading the trail a
// chunk at a time (a 90-day window of a large city holds millions).
func (s *Service) PublicUpdates(ctx context.Context, from, to time.Time, yield func(PublicUpdate) error) error {
	q := s.DB.Reader()
	// The trail's order follows time but for commits that overlapped
	// (time is read before the chain's lock): the window is a range of
	// sequence numbers with a margin wider than any overlap, walked by
	// the primary key, the times checked row by row.
	var lo, hi int64
	err := q.QueryRow(ctx, `SELECT seq FROM events WHERE at >= ? ORDER BY at LIMIT 1`, store.Ms(from)).Scan(&lo)
	if err == nil {
		err = q.QueryRow(ctx, `SELECT seq FROM events WHERE at <= ? ORDER BY at DESC LIMIT 1`, store.Ms(to)).Scan(&hi)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("updates window: %w", err)
	}
	lo, hi = max(lo-seqMargin, 0), hi+seqMargin
	after := lo - 1
	for {
		rows, err := store.Collect(ctx, q, scanPublicUpdate, `SELECT e.seq, c.id, c.no, e.at, e.action, e.to_state, e.opinion
			FROM events e JOIN cases c ON c.id = e.case_id JOIN categories cat ON cat.id = c.category_id
			WHERE e.seq > ? AND e.seq <= ? AND e.at >= ? AND e.at <= ? AND e.from_state <> '' AND e.to_state <> '' AND e.to_state <> e.from_state AND cat.staff_only = FALSE
			ORDER BY e.seq LIMIT ?`, after, hi, store.Ms(from), store.Ms(to), updatesChunk)
		if err != nil {
			return fmt.Errorf("updates: %w", err)
		}
		var replies, cases []int64
		for _, u := range rows {
			if u.Action == Feedback {
				replies, cases = append(replies, u.Seq), append(cases, u.caseID)
			}
		}
		photos := map[int64]int64{}
		if len(replies) > 0 {
			err := store.Each(ctx, q, func(r store.Scanner) error {
				var seq, id int64
				if err := r.Scan(&seq, &id); err != nil {
					return err
				}
				if _, ok := photos[seq]; !ok {
					photos[seq] = id
				}
				return nil
			}, `SELECT event_seq, id FROM photos WHERE case_id IN (`+idList(cases)+`) AND event_seq IN (`+idList(replies)+`)
				AND kind = 'after' AND derived_at <> 0 ORDER BY id`)
			if err != nil {
				return fmt.Errorf("updates' photos: %w", err)
			}
		}
		for _, u := range rows {
			if u.Action != Feedback {
				u.Reply = ""
			}
			u.PhotoID = photos[u.Seq]
			if err := yield(u); err != nil {
				return err
			}
		}
		if len(rows) < updatesChunk {
			return nil
		}
		after = rows[len(rows)-1].Seq
	}
}

func scanPublicUpdate(r store.Scanner) (PublicUpdate, error) {
	var u PublicUpdate
	var at int64
	var action, to string
	err := r.Scan(&u.Seq, &u.caseID, &u.CaseNo, &at, &action, &to, &u.Reply)
	u.At, u.Action, u.To = store.Time(at), Action(action), State(to)
	return u, err
}
