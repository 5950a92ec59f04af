// Package intake takes reports from citizens (随手拍) and other systems:
// idempotent submissions that survive a flaky phone network, receipt
// codes (查询码) to follow a case, the citizen's rating that can reopen
// it, following an existing case instead of filing a duplicate, and the
// abuse switch that blocks a device, phone number or address.
package intake

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// MaxPublicDescription is the longest description on the public page.
const MaxPublicDescription = 500

// MaxPublicPhotos is the most photos one public report may carry.
const MaxPublicPhotos = 9

// Service runs intake over the case workflow.
type Service struct {
	Flow *workflow.Service
	DB   *store.DB
	// RewardFirstOnly: only the first reporter of a problem counts for
	// rewards; reporters of cases merged into another do not.
	RewardFirstOnly bool
	Now             func() time.Time

	secret []byte
}

// New returns an intake service; it loads (or creates) the key that
// hashes blocked phone numbers and devices.
func New(ctx context.Context, flow *workflow.Service) (*Service, error) {
	s := &Service{Flow: flow, DB: flow.DB, RewardFirstOnly: true}
	var hexKey string
	err := flow.DB.Reader().QueryRow(ctx, `SELECT value FROM settings WHERE key = 'intake_secret'`).Scan(&hexKey)
	if errors.Is(err, sql.ErrNoRows) {
		var k [32]byte
		_, _ = rand.Read(k[:])
		hexKey = hex.EncodeToString(k[:])
		err = flow.DB.WithTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('intake_secret', ?) ON CONFLICT (key) DO NOTHING`, hexKey)
			return err
		})
		if err == nil {
			err = flow.DB.Reader().QueryRow(ctx, `SELECT value FROM settings WHERE key = 'intake_secret'`).Scan(&hexKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("intake secret: %w", err)
	}
	s.secret, err = hex.DecodeString(hexKey)
	return s, err
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// Submission is one report from a channel.
type Submission struct {
	// Scope and Key identify the submission for idempotency: the scope is
	// the channel ("public", "token:12", "user:5"), the key the client's
	// Idempotency-Key. An empty key means no idempotency.
	Scope, Key string
	Case       workflow.NewCase
	// IP is the client's address, for the abuse switch.
	IP string
	// WantReceipt gives a staff submission a receipt too (the public page
	// used by a signed-in inspector or grid worker).
	WantReceipt bool
	// StaffAPI marks a filing through the staff API or console (made
	// idempotent by its key): filed as workflow.Service.Report files it,
	// with no receipt and no abuse list, whoever the caller.
	StaffAPI bool
}

// Receipt is the answer to a submission.
type Receipt struct {
	Code      string         `json:"receipt"`
	CaseNo    string         `json:"case_no"`
	CaseID    int64          `json:"-"`
	State     workflow.State `json:"state"`
	Kind      string         `json:"kind"`
	Replayed  bool           `json:"-"`
	Duplicate bool           `json:"-"`
}

// Receipt kinds.
const (
	KindReporter = "reporter"
	KindFollower = "follower"
)

// MaxKeyLen bounds an idempotency key.
const MaxKeyLen = 128

// errReplay ends the transaction of a submission whose key is taken.
var errReplay = errors.New("replay")

// Submit files a report once per idempotency key. A retry of the same
// submission (same key, same content) gets the first answer back and its
// photos are discarded; the same key with different content is refused.
// Concurrent retries are serialised by the key's primary key: the second
// insert waits for the first transaction and then finds its row.
func (s *Service) Submit(ctx context.Context, actor org.Actor, sub Submission) (Receipt, error) {
	rec, err := s.submit(ctx, actor, sub)
	if err != nil || rec.Replayed {
		s.Flow.Photos.Remove(sub.Case.Photos)
	}
	return rec, err
}

func (s *Service) submit(ctx context.Context, actor org.Actor, sub Submission) (Receipt, error) {
	if len(sub.Key) > MaxKeyLen {
		return Receipt{}, apperr.New(apperr.Invalid, "intake.bad_key")
	}
	// The abuse list is for the public's channels; staff, who sign in and
	// answer for what they file, enter a hotline caller's report whatever
	// the caller's phone.
	if !actor.Role.Staff() && !sub.StaffAPI {
		if err := s.checkBlocked(ctx, sub.Case.DeviceID, sub.Case.ReporterPhone, sub.IP); err != nil {
			return Receipt{}, err
		}
	}
	fp := fingerprint(sub.Case)
	if sub.Key != "" {
		if rec, ok, err := s.replay(ctx, s.DB.Reader(), sub.Scope, sub.Key, fp); err != nil || ok {
			return rec, err
		}
	}
	p, err := s.Flow.PrepareReport(ctx, actor, sub.Case)
	if err != nil {
		return Receipt{}, err
	}
	rec, err := s.commit(ctx, &job{actor: actor, sub: sub, prepared: p, fp: fp})
	return rec, err
}

// job is one submission on its way to the database.
type job struct {
	actor    org.Actor
	sub      Submission
	prepared workflow.PreparedCase
	fp       string
}

// commit writes a prepared submission. On SQLite, submissions that arrive
// while a transaction is being written are written together in the next,
// each under its own savepoint (store.DB.Grouped), so a burst of reports
// shares one durable commit; PostgreSQL runs the transactions side by
// side. The write goes on even if the client has gone: the submission
// may be stored, so its photos must stay (a retry with the same key finds
// it).
func (s *Service) commit(ctx context.Context, j *job) (Receipt, error) {
	var rec Receipt
	err := s.DB.Grouped(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		rec, err = s.writeOne(ctx, tx, j)
		return err
	})
	if errors.Is(err, errReplay) {
		return s.lostRace(context.WithoutCancel(ctx), j.sub.Scope, j.sub.Key, j.fp)
	}
	return rec, err
}

// writeOne writes one submission within the batch's transaction.
func (s *Service) writeOne(ctx context.Context, tx *store.Tx, j *job) (Receipt, error) {
	sub, actor := j.sub, j.actor
	if err := s.claimKey(ctx, tx, sub.Scope, sub.Key, j.fp); err != nil {
		return Receipt{}, err
	}
	// Citizens (directly or through another app) follow their case with
	// a receipt, and those who left a phone number can earn rewards;
	// staff have the console, and get a receipt only when they use the
	// public page (never a reward: it is their job). The receipt is
	// made before the case takes its number (WhenFiled).
	var code string
	citizen := (actor.Role == org.RoleSystem || actor.Role == org.RoleClient) && !sub.StaffAPI
	prepared := j.prepared
	if citizen || sub.WantReceipt {
		prepared = prepared.WhenFiled(func(ctx context.Context, tx *store.Tx, caseID int64) (err error) {
			code, err = s.newReceipt(ctx, tx, caseID, KindReporter, sub.Case.DeviceID, citizen && strings.TrimSpace(sub.Case.ReporterPhone) != "")
			return err
		})
	}
	c, err := s.Flow.ReportTx(ctx, tx, prepared)
	if err != nil {
		return Receipt{}, err
	}
	rec := Receipt{CaseNo: c.No, CaseID: c.ID, State: c.State, Kind: KindReporter, Code: code}
	return rec, s.recordAnswer(ctx, tx, sub.Scope, sub.Key, rec)
}

// claimKey takes an idempotency key for this transaction; errReplay when
// another submission has it (the second insert waits for the first
// transaction, then finds its row). No key, no claim.
func (s *Service) claimKey(ctx context.Context, tx *store.Tx, scope, key, fp string) error {
	if key == "" {
		return nil
	}
	res, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, response, created_at) VALUES (?, ?, ?, '', ?) ON CONFLICT DO NOTHING`,
		scope, key, fp, store.Ms(s.now()))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errReplay
	}
	return nil
}

// lostRace answers a submission whose key another one took while it was
// being written: with that one's answer, once it is committed.
func (s *Service) lostRace(ctx context.Context, scope, key, fp string) (Receipt, error) {
	rec, ok, err := s.replay(ctx, s.DB.Reader(), scope, key, fp)
	if err == nil && !ok {
		err = apperr.New(apperr.Conflict, "intake.in_progress")
	}
	return rec, err
}

// recordAnswer stores the answer a retry under the key gets.
func (s *Service) recordAnswer(ctx context.Context, tx *store.Tx, scope, key string, rec Receipt) error {
	if key == "" {
		return nil
	}
	b, _ := json.Marshal(rec)
	return tx.Defer(ctx, `UPDATE idempotency_keys SET case_id = ?, response = ? WHERE scope = ? AND key = ?`, rec.CaseID, string(b), scope, key)
}

func (s *Service) replay(ctx context.Context, q store.Queryer, scope, key, fp string) (Receipt, bool, error) {
	var storedFP, resp string
	err := q.QueryRow(ctx, `SELECT fingerprint, response FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key).Scan(&storedFP, &resp)
	if errors.Is(err, sql.ErrNoRows) {
		return Receipt{}, false, nil
	}
	if err != nil {
		return Receipt{}, false, err
	}
	if storedFP != fp {
		return Receipt{}, false, apperr.New(apperr.Conflict, "intake.key_reused")
	}
	if resp == "" {
		return Receipt{}, false, nil
	}
	var rec Receipt
	if err := json.Unmarshal([]byte(resp), &rec); err != nil {
		return Receipt{}, false, err
	}
	rec.Replayed = true
	// The state may have moved on since the first answer.
	_ = q.QueryRow(ctx, `SELECT id, state FROM cases WHERE no = ?`, rec.CaseNo).Scan(&rec.CaseID, &rec.State)
	return rec, true, nil
}

// fingerprint identifies a submission's content, so that a reused key
// with different content is told apart from a retry. Photos count by
// their digests, so a retried upload of the same files matches.
func fingerprint(in workflow.NewCase) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00", in.CategoryID, strings.TrimSpace(in.Description))
	if in.Lat != nil {
		fmt.Fprintf(h, "%.6f,%.6f\x00", *in.Lat, *in.Lon)
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", strings.TrimSpace(in.Address), strings.TrimSpace(in.ReporterPhone), in.Source)
	for _, p := range in.Photos {
		h.Write([]byte(p.SHA256))
	}
	// what staff filing adds (zero on the public's channels, which then
	// hash as before)
	if in.RegionID != 0 || in.Urgency != 0 || in.ReporterName != "" || in.ReporterEmail != "" {
		fmt.Fprintf(h, "\x01%d\x00%d\x00%s\x00%s\x00", in.RegionID, in.Urgency, strings.TrimSpace(in.ReporterName), strings.TrimSpace(in.ReporterEmail))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// The entries a resident's receipt adds to a case's trail.
const (
	ActionFollow = "citizen.follow" // 附议: a resident follows an existing case
	ActionRate   = "citizen.rate"   // 评价: a resident rates the result
)

// TrailActions are the intake's trail entries, for the words that show them.
var TrailActions = []string{ActionFollow, ActionRate}

// ReceiptLen is the length of a receipt code (workflow.ReceiptLen).
const ReceiptLen = workflow.ReceiptLen

func newCode() string {
	b := make([]byte, ReceiptLen)
	max := big.NewInt(int64(len(workflow.ReceiptAlphabet)))
	for i := range b {
		n, _ := rand.Int(rand.Reader, max)
		b[i] = workflow.ReceiptAlphabet[n.Int64()]
	}
	return string(b)
}

// NormalizeCode accepts a code as typed: any case, with spaces or dashes.
func NormalizeCode(code string) (string, bool) { return workflow.NormalizeReceipt(code) }

func (s *Service) newReceipt(ctx context.Context, tx *store.Tx, caseID int64, kind, device string, eligible bool) (string, error) {
	for range 5 {
		code := newCode()
		res, err := tx.Exec(ctx, `INSERT INTO receipts (code, case_id, kind, device_id, reward_eligible, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			code, caseID, kind, truncateRunes(device, 100), eligible && kind == KindReporter, store.Ms(s.now()))
		if err != nil {
			return "", err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return code, nil
		}
	}
	return "", errors.New("could not allocate a receipt code")
}

// Follow gives a citizen a receipt for an existing open case instead of
// filing a duplicate (“关注此问题”). Idempotent like Submit.
func (s *Service) Follow(ctx context.Context, scope, key, caseNo, device, ip string) (Receipt, error) {
	if len(key) > MaxKeyLen {
		return Receipt{}, apperr.New(apperr.Invalid, "intake.bad_key")
	}
	if err := s.checkBlocked(ctx, device, "", ip); err != nil {
		return Receipt{}, err
	}
	sum := sha256.Sum256([]byte("follow\x00" + caseNo))
	fp := hex.EncodeToString(sum[:])
	if key != "" {
		if rec, ok, err := s.replay(ctx, s.DB.Reader(), scope, key, fp); err != nil || ok {
			return rec, err
		}
	}
	var rec Receipt
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := s.claimKey(ctx, tx, scope, key, fp); err != nil {
			return err
		}
		var state string
		var staffOnly bool
		err := tx.QueryRow(ctx, `SELECT c.id, c.state, cat.staff_only FROM cases c JOIN categories cat ON cat.id = c.category_id WHERE c.no = ?`, caseNo).Scan(&rec.CaseID, &state, &staffOnly)
		if errors.Is(err, sql.ErrNoRows) || err == nil && staffOnly {
			return apperr.New(apperr.NotFound, "case.not_found")
		}
		if err != nil {
			return err
		}
		if !workflow.State(state).Open() {
			return apperr.New(apperr.Conflict, "intake.follow_closed")
		}
		rec.CaseNo, rec.State, rec.Kind, rec.Duplicate = caseNo, workflow.State(state), KindFollower, true
		if rec.Code, err = s.newReceipt(ctx, tx, rec.CaseID, KindFollower, device, false); err != nil {
			return err
		}
		if err := s.recordAnswer(ctx, tx, scope, key, rec); err != nil {
			return err
		}
		e := org.System.Entry(s.now(), ActionFollow, nil)
		e.CaseID = rec.CaseID
		_, err = audit.Append(ctx, tx, e)
		return err
	})
	if errors.Is(err, errReplay) {
		return s.lostRace(ctx, scope, key, fp)
	}
	return rec, err
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Ratings a citizen can give a closed case.
const (
	Satisfied   = "satisfied"
	Unsatisfied = "unsatisfied"
)

// Rate records a citizen's rating of a closed case. An unsatisfied
// rating reopens the case for the acceptor, with the citizen's reason as
// the opinion. One rating per receipt per closure.
func (s *Service) Rate(ctx context.Context, code, rating, reason string) error {
	code, ok := NormalizeCode(code)
	if !ok {
		return apperr.New(apperr.NotFound, "intake.receipt_not_found")
	}
	if !slices.Contains([]string{Satisfied, Unsatisfied}, rating) {
		return apperr.New(apperr.Invalid, "intake.bad_rating")
	}
	reason = strings.TrimSpace(reason)
	if rating == Unsatisfied && reason == "" {
		return apperr.New(apperr.Invalid, "intake.reason_required")
	}
	if utf8.RuneCountInString(reason) > MaxPublicDescription {
		return apperr.New(apperr.Invalid, "case.description_too_long", "max", fmt.Sprint(MaxPublicDescription))
	}
	var caseID, ratedAt, closedAt, mergedInto int64
	var state, kind string
	err := s.DB.Reader().QueryRow(ctx, `SELECT r.case_id, r.rated_at, r.kind, c.state, c.closed_at, COALESCE(c.merged_into, 0) FROM receipts r JOIN cases c ON c.id = r.case_id WHERE r.code = ?`, code).
		Scan(&caseID, &ratedAt, &kind, &state, &closedAt, &mergedInto)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "intake.receipt_not_found")
	}
	if err != nil {
		return err
	}
	// A receipt of a merged case follows (and rates) the case it was
	// merged into, as its status page shows.
	for hops := 0; workflow.State(state) == workflow.Merged && mergedInto != 0 && hops < 5; hops++ {
		var next, nextClosed, nextMerged int64
		var nextState string
		var staffOnly bool
		if err := s.DB.Reader().QueryRow(ctx, `SELECT c.state, c.closed_at, COALESCE(c.merged_into, 0), cat.staff_only FROM cases c JOIN categories cat ON cat.id = c.category_id WHERE c.id = ?`, mergedInto).
			Scan(&nextState, &nextClosed, &nextMerged, &staffOnly); err != nil {
			return err
		}
		if staffOnly {
			break // the public never follows into an internal case
		}
		next = mergedInto
		caseID, state, closedAt, mergedInto = next, nextState, nextClosed, nextMerged
	}
	if workflow.State(state) != workflow.Closed {
		return apperr.New(apperr.Conflict, "intake.not_closed")
	}
	if ratedAt >= closedAt {
		return apperr.New(apperr.Conflict, "intake.already_rated")
	}
	now := s.now()
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE receipts SET rating = ?, rating_reason = ?, rated_at = ? WHERE code = ? AND rated_at = ?`, rating, reason, store.Ms(now), code, ratedAt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "intake.already_rated")
		}
		// Only the reporter's dissatisfaction reopens the case: anyone can
		// follow a public case, so followers' ratings are recorded and
		// shown to the office but act on nothing. The case row is locked
		// (by the reopen) before the trail's head, the order every other
		// writer keeps.
		if rating == Unsatisfied && kind == KindReporter {
			if err := s.Flow.ActTx(ctx, tx, org.System, caseID, workflow.ActInput{Action: workflow.Reopen, Opinion: reason}); err != nil {
				return err
			}
		}
		e := org.System.Entry(now, ActionRate, map[string]string{"rating": rating, "kind": kind})
		e.CaseID, e.Opinion = caseID, reason
		_, err = audit.Append(ctx, tx, e)
		return err
	})
}

// Blocklist kinds.
const (
	BlockDevice = "device"
	BlockPhone  = "phone"
	BlockIP     = "ip"
)

func normalizeBlock(kind, value string) string {
	value = strings.TrimSpace(value)
	if kind == BlockPhone {
		value = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, value)
		// +86 / 0086 country prefixes before a mobile number (11 digits
		// starting with 1).
		for _, p := range []string{"0086", "86"} {
			if rest, ok := strings.CutPrefix(value, p); ok && len(rest) == 11 && rest[0] == '1' {
				value = rest
				break
			}
		}
	}
	return value
}

func (s *Service) blockHash(kind, value string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(kind + ":" + normalizeBlock(kind, value)))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Service) checkBlocked(ctx context.Context, device, phone, ip string) error {
	var hashes []any
	for _, kv := range [][2]string{{BlockDevice, device}, {BlockPhone, phone}, {BlockIP, ip}} {
		if normalizeBlock(kv[0], kv[1]) != "" {
			hashes = append(hashes, s.blockHash(kv[0], kv[1])) // the kind is part of the hash
		}
	}
	if len(hashes) == 0 {
		return nil
	}
	var n int
	err := s.DB.Reader().QueryRow(ctx, `SELECT COUNT(*) FROM blocklist WHERE value_hash IN `+store.In(len(hashes)), hashes...).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return apperr.New(apperr.Forbidden, "intake.blocked")
	}
	return nil
}

// Block is one entry of the abuse list.
type Block struct {
	Kind      string    `json:"kind"`
	Hash      string    `json:"id"`
	Label     string    `json:"label"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// mask shows enough of a value to recognise it, never all of it.
func mask(kind, v string) string {
	v = normalizeBlock(kind, v)
	r := []rune(v)
	switch {
	case len(r) <= 4:
		return strings.Repeat("*", len(r))
	case kind == BlockPhone && len(r) >= 7:
		return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
	default:
		return string(r[:2]) + strings.Repeat("*", len(r)-4) + string(r[len(r)-2:])
	}
}

// AddBlock blocks a device, phone number or address (admin or acceptor).
func (s *Service) AddBlock(ctx context.Context, actor org.Actor, kind, value, reason string) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleAcceptor {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	norm := normalizeBlock(kind, value)
	if !slices.Contains([]string{BlockDevice, BlockPhone, BlockIP}, kind) || norm == "" || kind == BlockPhone && (len(norm) < 7 || len(norm) > 15) {
		return apperr.New(apperr.Invalid, "intake.bad_block")
	}
	reason = truncateRunes(strings.TrimSpace(reason), 200)
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		h := s.blockHash(kind, value)
		if _, err := tx.Exec(ctx, `INSERT INTO blocklist (kind, value_hash, label, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			kind, h, mask(kind, value), reason, nullable(actor.UserID), store.Ms(s.now())); err != nil {
			return err
		}
		e := actor.Entry(s.now(), "block.add", map[string]string{"kind": kind, "label": mask(kind, value)})
		e.Opinion = reason
		_, err := audit.Append(ctx, tx, e)
		return err
	})
}

// RemoveBlock lifts a block by its id (the hash).
func (s *Service) RemoveBlock(ctx context.Context, actor org.Actor, kind, hash string) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleAcceptor {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM blocklist WHERE kind = ? AND value_hash = ?`, kind, hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "intake.block_not_found")
		}
		_, err = audit.Append(ctx, tx, actor.Entry(s.now(), "block.remove", map[string]string{"kind": kind, "id": hash}))
		return err
	})
}

// Blocks lists the abuse list, newest first.
func (s *Service) Blocks(ctx context.Context) ([]Block, error) {
	return store.Collect(ctx, s.DB.Reader(), func(row store.Scanner) (b Block, err error) {
		var at int64
		err = row.Scan(&b.Kind, &b.Hash, &b.Label, &b.Reason, &at)
		b.CreatedAt = store.Time(at)
		return b, err
	}, `SELECT kind, value_hash, label, reason, created_at FROM blocklist ORDER BY created_at DESC`)
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Track is what the holder of a receipt sees of a case.
type Track struct {
	Code, Kind   string
	Case         *workflow.Case
	Steps        []Step
	CanRate      bool
	Rating       string
	RatingReason string
	RatedAt      time.Time
	// MergedInto is the number of the case this one was merged into; the
	// receipt then follows that case.
	MergedInto string
	// FiledNo is the number of the case the receipt was given for.
	FiledNo string
	// Reply is the unit's written answer (its latest 处理反馈), with when
	// it was given; ExpectedBy the deadline the unit works to while the
	// case is being handled.
	Reply      string
	ReplyAt    time.Time
	ExpectedBy time.Time
}

// Step is one plain-words stage of the loop on the status page.
type Step struct {
	Key           string // received, accepted, handling, verifying, closed
	At            time.Time
	Done, Current bool
}

// Track returns the public view of the case behind a receipt code.
func (s *Service) Track(ctx context.Context, code string) (*Track, error) {
	code, ok := NormalizeCode(code)
	if !ok {
		return nil, apperr.New(apperr.NotFound, "intake.receipt_not_found")
	}
	t := &Track{Code: code}
	var caseID, ratedAt int64
	err := s.DB.Reader().QueryRow(ctx, `SELECT case_id, kind, rating, rating_reason, rated_at FROM receipts WHERE code = ?`, code).
		Scan(&caseID, &t.Kind, &t.Rating, &t.RatingReason, &ratedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "intake.receipt_not_found")
	}
	if err != nil {
		return nil, err
	}
	c, err := s.Flow.Get(ctx, org.System, caseID)
	if err != nil {
		return nil, err
	}
	t.FiledNo = c.No
	for hops := 0; c.State == workflow.Merged && c.MergedInto != 0 && hops < 5; hops++ {
		target, err := s.Flow.Get(ctx, org.System, c.MergedInto)
		if err != nil {
			return nil, err
		}
		if cat, err := s.Flow.Category(ctx, s.DB.Reader(), target.CategoryID); err != nil || cat.StaffOnly {
			break // the public never follows into an internal case
		}
		t.MergedInto = target.No
		c = target
	}
	c.Reporter = nil // never on a public page
	t.Case = c
	t.RatedAt = store.Time(ratedAt)
	t.CanRate = c.State == workflow.Closed && ratedAt < store.Ms(c.ClosedAt)
	if ratedAt < store.Ms(c.ClosedAt) {
		t.Rating, t.RatingReason, t.RatedAt = "", "", time.Time{} // a rating of an earlier closure
	}
	var verifyingAt time.Time
	if c.State == workflow.Verifying || c.State == workflow.Closed {
		evs, err := s.Flow.Timeline(ctx, org.System, c.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if e.Action == string(workflow.Feedback) {
				verifyingAt, t.Reply, t.ReplyAt = e.At, e.Opinion, e.At
			}
		}
	}
	switch c.State {
	case workflow.Dispatched, workflow.InProgress:
		t.ExpectedBy = c.Deadline
	}
	stage := map[workflow.State]int{workflow.Reported: 0, workflow.Accepted: 1, workflow.Dispatched: 2, workflow.InProgress: 2, workflow.Postponed: 2,
		workflow.Verifying: 3, workflow.Closed: 4}
	cur, known := stage[c.State]
	at := []time.Time{c.ReportedAt, c.AcceptedAt, c.DispatchedAt, verifyingAt, c.ClosedAt}
	for i, key := range []string{"received", "accepted", "handling", "verifying", "closed"} {
		st := Step{Key: key}
		if known {
			st.Done = i < cur || (i == cur && c.State == workflow.Closed)
			st.Current = i == cur && c.State != workflow.Closed
		} else {
			st.Done = i == 0
		}
		if st.Done || st.Current {
			st.At = at[i]
		}
		t.Steps = append(t.Steps, st)
	}
	return t, nil
}

// ReceiptInfo is what the office sees of a case's receipts: never the
// code itself (it is the citizen's key), but who followed how, whether
// they count for rewards, and their rating.
type ReceiptInfo struct {
	Kind           string    `json:"kind"`
	RewardEligible bool      `json:"reward_eligible"`
	Rating         string    `json:"rating,omitempty"`
	RatingReason   string    `json:"rating_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Receipts lists the receipts of a case. Reward eligibility: a reporter
// who left a phone number; with RewardFirstOnly, not when the case was
// merged into an earlier one (only the first reporter of a problem
// counts).
func (s *Service) Receipts(ctx context.Context, caseID int64) ([]ReceiptInfo, error) {
	return store.Collect(ctx, s.DB.Reader(), func(row store.Scanner) (ri ReceiptInfo, err error) {
		var at int64
		var state string
		if err := row.Scan(&ri.Kind, &ri.RewardEligible, &ri.Rating, &ri.RatingReason, &at, &state); err != nil {
			return ri, err
		}
		if s.RewardFirstOnly && workflow.State(state) == workflow.Merged {
			ri.RewardEligible = false
		}
		ri.CreatedAt = store.Time(at)
		return ri, nil
	}, `SELECT r.kind, r.reward_eligible, r.rating, r.rating_reason, r.created_at, c.state
		FROM receipts r JOIN cases c ON c.id = r.case_id WHERE r.case_id = ? ORDER BY r.created_at`, caseID)
}
