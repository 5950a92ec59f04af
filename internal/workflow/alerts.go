package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Staff alerts (消息提醒) tell the people of the console what waits for
// them since they last looked: a unit's handlers of a dispatch, a rework,
// a listing, an extension decided, a warning or a notice; acceptors of a
// case returned, an extension asked for or a relapse; inspectors of a case
// ready to verify. An alert is written in the transaction of the change
// that calls for it, so there is none for a change that rolled back. A
// reader sees an alert meant for their unit or role whose case (if any) is
// in their scope now: a case moved to another unit takes its alerts
// with it.

// AlertKind says what an alert is about; the console words it
// (alert.kind.<kind>).
type AlertKind string

const (
	AlertDispatched        AlertKind = "dispatched"         // 新派遣: to the lead unit
	AlertCooperate         AlertKind = "cooperate"          // 协办: to each cooperating unit
	AlertRework            AlertKind = "rework"             // 核查不通过, 返工
	AlertListed            AlertKind = "listed"             // 挂牌督办
	AlertExtensionApproved AlertKind = "extension_approved" // 同意延期
	AlertExtensionDenied   AlertKind = "extension_denied"   // 不同意延期
	AlertWarned            AlertKind = "warned"             // 黄牌预警
	AlertOverdue           AlertKind = "overdue"            // 超期
	AlertNotice            AlertKind = "notice"             // 督办单 to sign for (ref: its number)
	AlertReturned          AlertKind = "returned"           // 单位退回: to acceptors
	AlertExtensionAsked    AlertKind = "extension_asked"    // 延期申请: to acceptors
	AlertRelapse           AlertKind = "relapse"            // 回访不通过, 反弹: to acceptors
	AlertToVerify          AlertKind = "to_verify"          // 处理反馈, 待核查: to inspectors
	AlertReopened          AlertKind = "reopened"           // 重新办理 by the system (a resident not satisfied): to acceptors
)

// AlertKinds lists the kinds (the message catalogue has a word for each).
var AlertKinds = []AlertKind{AlertDispatched, AlertCooperate, AlertRework, AlertListed, AlertExtensionApproved, AlertExtensionDenied,
	AlertWarned, AlertOverdue, AlertNotice, AlertReturned, AlertExtensionAsked, AlertRelapse, AlertToVerify, AlertReopened}

// Alert is one alert as its reader sees it.
type Alert struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Kind   AlertKind `json:"kind"`
	CaseID int64     `json:"case_id,omitempty"`
	CaseNo string    `json:"case_no,omitempty"`
	Ref    string    `json:"ref,omitempty"` // a notice's number
	Unread bool      `json:"unread"`
}

// AlertUnit writes an alert for unit's staff in tx (caseID 0: none).
func AlertUnit(ctx context.Context, tx *store.Tx, at time.Time, kind AlertKind, unitID, caseID int64, ref string) error {
	if unitID == 0 {
		return nil
	}
	err := tx.Defer(ctx, `INSERT INTO staff_alerts (at, kind, unit_id, case_id, ref) VALUES (?, ?, ?, ?, ?)`,
		store.Ms(at), string(kind), unitID, nullable(caseID), ref)
	return err
}

// alertRole writes an alert for every user of role whose scope holds the
// case.
func alertRole(ctx context.Context, tx *store.Tx, at time.Time, kind AlertKind, role org.Role, caseID int64) error {
	err := tx.Defer(ctx, `INSERT INTO staff_alerts (at, kind, role, case_id) VALUES (?, ?, ?, ?)`, store.Ms(at), string(kind), string(role), caseID)
	return err
}

// alertAfter writes the alerts an action calls for, once it is applied to
// c (which holds the case as changed).
func alertAfter(ctx context.Context, tx *store.Tx, actor org.Actor, c *Case, action Action, now time.Time) error {
	unit := func(kind AlertKind) error { return AlertUnit(ctx, tx, now, kind, c.LeadUnitID, c.ID, "") }
	switch action {
	case Dispatch:
		if err := unit(AlertDispatched); err != nil {
			return err
		}
		for _, u := range c.CoopUnitIDs {
			if err := AlertUnit(ctx, tx, now, AlertCooperate, u, c.ID, ""); err != nil {
				return err
			}
		}
	case VerifyFail:
		return unit(AlertRework)
	case Supervise:
		return unit(AlertListed)
	case ApproveExtension:
		return unit(AlertExtensionApproved)
	case DenyExtension:
		return unit(AlertExtensionDenied)
	case Return:
		return alertRole(ctx, tx, now, AlertReturned, org.RoleAcceptor, c.ID)
	case RequestExtension:
		return alertRole(ctx, tx, now, AlertExtensionAsked, org.RoleAcceptor, c.ID)
	case Relapse:
		return alertRole(ctx, tx, now, AlertRelapse, org.RoleAcceptor, c.ID)
	case Feedback:
		return alertRole(ctx, tx, now, AlertToVerify, org.RoleInspector, c.ID)
	case Reopen:
		if actor.Role == org.RoleSystem { // an acceptor who reopened it knows
			return alertRole(ctx, tx, now, AlertReopened, org.RoleAcceptor, c.ID)
		}
	}
	return nil
}

// alertAudience is the condition on staff_alerts n (and the case c, left
// joined) that picks the alerts meant for actor, with its arguments: a
// unit's alerts for its handlers, a role's for the people of the other
// roles (whatever unit their account names), and in both only those whose
// case is in the actor's scope. ok is false for
// actors that get no alerts (tokens, the system).
func alertAudience(d store.Dialect, actor org.Actor) (cond string, args []any, ok bool) {
	if actor.UserID == 0 {
		return "", nil, false
	}
	scope, scopeArgs := actor.CaseScope(d)
	if actor.Role == org.RoleHandler {
		if actor.UnitID == 0 {
			return "", nil, false
		}
		cond, args = "n.unit_id = ?", []any{actor.UnitID}
	} else {
		cond, args = "n.role = ?", []any{string(actor.Role)}
	}
	return cond + " AND (n.case_id IS NULL OR " + scope + ")", append(args, scopeArgs...), true
}

// alertsFrom is the alerts table with each alert's case.
const alertsFrom = ` FROM staff_alerts n LEFT JOIN cases c ON c.id = n.case_id WHERE `

// MaxUnread caps the unread count a reader is shown ("99+").
const MaxUnread = 99

// UnreadFor is how long an alert counts as new: older ones stay in the
// list, read or not (a new account does not start with its unit's
// history unread, nor someone back from leave with months of it).
const UnreadFor = 7 * 24 * time.Hour

// UnreadAlerts counts the alerts for actor since they last marked them
// read, at most MaxUnread+1: one query, as every console page asks.
func (s *Service) UnreadAlerts(ctx context.Context, actor org.Actor) (int, error) {
	cond, args, ok := alertAudience(s.DB.Dialect, actor)
	if !ok {
		return 0, nil
	}
	var n int
	err := s.DB.Reader().QueryRow(ctx, `SELECT count(*) FROM (SELECT n.id`+alertsFrom+cond+`
		AND n.id > COALESCE((SELECT last_id FROM staff_alert_reads WHERE user_id = ?), 0) AND n.at > ? LIMIT ?) x`,
		append(args, actor.UserID, store.Ms(s.now().Add(-UnreadFor)), MaxUnread+1)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count alerts: %w", err)
	}
	return n, nil
}

func (s *Service) lastRead(ctx context.Context, actor org.Actor) (int64, error) {
	var last int64
	err := s.DB.Reader().QueryRow(ctx, `SELECT last_id FROM staff_alert_reads WHERE user_id = ?`, actor.UserID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("alerts read mark: %w", err)
	}
	return last, nil
}

// Alerts lists actor's alerts newest first, limit at most (1–200), those
// before id before when it is not 0 (the next page), with the unread ones
// marked.
func (s *Service) Alerts(ctx context.Context, actor org.Actor, before int64, limit int) ([]Alert, error) {
	cond, args, ok := alertAudience(s.DB.Dialect, actor)
	if !ok {
		return nil, nil
	}
	if limit < 1 || limit > 200 {
		limit = 50
	}
	last, err := s.lastRead(ctx, actor)
	if err != nil {
		return nil, err
	}
	if before > 0 {
		cond, args = cond+" AND n.id < ?", append(args, before)
	}
	fresh := s.now().Add(-UnreadFor)
	out, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (a Alert, err error) {
		var at int64
		var kind string
		err = r.Scan(&a.ID, &at, &kind, &a.CaseID, &a.CaseNo, &a.Ref)
		a.At, a.Kind = store.Time(at), AlertKind(kind)
		a.Unread = a.ID > last && a.At.After(fresh)
		return a, err
	}, `SELECT n.id, n.at, n.kind, COALESCE(n.case_id, 0), COALESCE(c.no, ''), n.ref`+alertsFrom+cond+` ORDER BY n.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// MarkAlertsRead marks actor's alerts read up to id upTo (the newest the
// reader was shown; 0: all there are now). The mark never moves back.
func (s *Service) MarkAlertsRead(ctx context.Context, actor org.Actor, upTo int64) error {
	if actor.UserID == 0 {
		return nil
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		// At most the newest alert there is: a mark beyond it would
		// silence the alerts to come.
		var newest int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(max(id), 0) FROM staff_alerts`).Scan(&newest); err != nil {
			return err
		}
		if upTo <= 0 || upTo > newest {
			upTo = newest
		}
		_, err := tx.Exec(ctx, `INSERT INTO staff_alert_reads (user_id, last_id) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET last_id = CASE WHEN excluded.last_id > staff_alert_reads.last_id THEN excluded.last_id ELSE staff_alert_reads.last_id END`,
			actor.UserID, upTo)
		return err
	})
}
