package workflow

import (
	"context"
	"fmt"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
)

// The steps of the closed loop: one function per action, each changing
// the case (a.c), the trail event's data and the dispatch row as its
// action demands. apply runs the checks common to every action before and
// writes the rows after.

// steps maps each action to its step; an action without one changes only
// the state.
var steps = map[Action]func(*actCtx) error{
	Accept:           (*actCtx).accept,
	Reject:           (*actCtx).reject,
	Void:             (*actCtx).void,
	Merge:            (*actCtx).merge,
	Dispatch:         (*actCtx).dispatch,
	Acknowledge:      (*actCtx).acknowledge,
	Return:           (*actCtx).returnToOffice,
	RequestExtension: (*actCtx).requestExtension,
	ApproveExtension: (*actCtx).approveExtension,
	DenyExtension:    (*actCtx).denyExtension,
	Postpone:         (*actCtx).postpone,
	Resume:           (*actCtx).resume,
	Feedback:         (*actCtx).feedback,
	VerifyPass:       (*actCtx).verifyPass,
	VerifyFail:       (*actCtx).verifyFail,
	Reopen:           (*actCtx).reopen,
	Revisit:          (*actCtx).revisit,
	Relapse:          (*actCtx).relapse,
	Supervise:        (*actCtx).supervise,
	Unsupervise:      (*actCtx).unsupervise,
	Comment:          (*actCtx).comment,
}

// accept 立案: the acceptor may correct the category and urgency and place the case.
func (a *actCtx) accept() error {
	a.c.AcceptedAt = a.now
	if a.in.CategoryID != 0 && a.in.CategoryID != a.c.CategoryID {
		cat, err := a.s.Category(a.ctx, a.tx, a.in.CategoryID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		if err != nil || cat.ParentID == 0 || !cat.Active {
			return apperr.New(apperr.Invalid, "case.category_leaf")
		}
		a.data["category_id"] = cat.ID
		a.c.CategoryID = cat.ID
	}
	if a.in.Urgency != 0 {
		if a.in.Urgency < UrgencyNormal || a.in.Urgency > UrgencyCritical {
			return apperr.New(apperr.Invalid, "case.bad_urgency")
		}
		a.data["urgency"] = a.in.Urgency
		a.c.Urgency = a.in.Urgency
	}
	return a.s.relocate(a.ctx, a.tx, a.actor, a.c, a.in, a.data)
}

// reject 不予立案: the case leaves the loop; no clock runs.
func (a *actCtx) reject() error {
	a.clearTimer()
	a.leaveSupervision()
	return nil
}

// leaveSupervision lifts the listed supervision of a case that leaves the
// loop without being closed (rejected, merged, voided): a final state
// allows no action but a comment, so the flag would stay in the
// supervised list for good. The trail's event says so.
func (a *actCtx) leaveSupervision() {
	if a.c.Supervised {
		a.c.Supervised = false
		a.data["supervision_lifted"] = true
	}
}

// void 作废: the case leaves the loop and every dispatch it had leaves the figures.
func (a *actCtx) void() error {
	a.clearTimer()
	a.leaveSupervision()
	// A voided case was never a valid case (docs/domain.md, voided
	// cases): every dispatch it ever had leaves the unit figures, the
	// returned and reworked ones as well as the one in force (a case
	// waiting for a new dispatch has none in force at all).
	if _, err := a.tx.Exec(a.ctx, `UPDATE dispatches SET voided_at = ? WHERE case_id = ? AND voided_at = 0`, store.Ms(a.now), a.c.ID); err != nil {
		return fmt.Errorf("void dispatches of case %d: %w", a.c.ID, err)
	}
	return nil
}

// merge 合并: the case duplicates an open one.
func (a *actCtx) merge() error {
	if a.in.MergeInto == 0 || a.in.MergeInto == a.c.ID {
		return apperr.New(apperr.Invalid, "case.merge_target")
	}
	target, err := a.s.load(a.ctx, a.tx, a.actor, a.in.MergeInto)
	if err != nil {
		return apperr.New(apperr.Invalid, "case.merge_target")
	}
	if !target.State.Open() {
		// Merging into a closed case would hide a relapse: report
		// it as a new case (or reopen the old one) instead.
		return apperr.New(apperr.Invalid, "case.merge_target")
	}
	a.leaveSupervision()
	a.c.MergedInto = target.ID
	a.data["merge_into"] = target.No
	return nil
}

// dispatch 派遣: a lead unit (the responsibility table's when none is given) and cooperating units, with a deadline; a new dispatch row.
func (a *actCtx) dispatch() error {
	lead, coops := a.in.LeadUnitID, a.in.CoopUnitIDs
	if lead == 0 {
		cat, err := a.category()
		if err != nil {
			return err
		}
		lead, coops, err = a.s.DefaultDispatch(a.ctx, a.tx, cat, a.c.RegionID)
		if err != nil {
			return err
		}
		if lead == 0 {
			return apperr.New(apperr.Invalid, "case.lead_required")
		}
		a.data["by_table"] = true
	}
	coops = dedupe(coops, lead)
	leadName, err := activeUnits(a.ctx, a.tx, lead, coops)
	if err != nil {
		return err
	}
	d, err := a.newDeadline()
	if err != nil {
		return err
	}
	a.c.LeadUnitID, a.c.LeadUnitName, a.c.CoopUnitIDs, a.c.DispatchedAt = lead, leadName, coops, a.now
	a.setTimer(a.now, d)
	a.data["lead_unit_id"], a.data["coop_unit_ids"] = lead, coops
	a.row.create = true
	return nil
}

// activeUnits checks, in one statement, that the lead and cooperating
// units exist and are active, and returns the lead's name.
func activeUnits(ctx context.Context, tx *store.Tx, lead int64, coops []int64) (string, error) {
	ids := append([]any{lead}, anyIDs(coops)...)
	var leadName string
	found := 0
	err := store.Each(ctx, tx, func(r store.Scanner) error {
		var id int64
		var name string
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		found++
		if id == lead {
			leadName = name
		}
		return nil
	}, `SELECT id, name FROM units WHERE active = TRUE AND id IN `+store.In(len(ids)), ids...)
	if err != nil {
		return "", err
	}
	if found != len(ids) {
		return "", apperr.New(apperr.Invalid, "unit.not_found")
	}
	return leadName, nil
}

func anyIDs(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// acknowledge 签收: the unit has taken the case.
func (a *actCtx) acknowledge() error {
	a.row.set = append(a.row.set, "acked_at = ?")
	a.row.args = append(a.row.args, store.Ms(a.now))
	return nil
}

// returnToOffice 退回: the unit sends a wrong dispatch back to the office.
func (a *actCtx) returnToOffice() error {
	a.row.set = append(a.row.set, "returned_at = ?")
	a.row.args = append(a.row.args, store.Ms(a.now))
	a.data["unit_id"] = a.c.LeadUnitID
	a.c.LeadUnitID, a.c.CoopUnitIDs = 0, nil
	a.c.ReturnCount++
	a.clearTimer()
	return nil
}

// requestExtension 延期申请: asked before the deadline, for a later one.
func (a *actCtx) requestExtension() error {
	if a.in.Deadline.IsZero() || !a.in.Deadline.After(a.c.Deadline) {
		return apperr.New(apperr.Invalid, "case.extension_deadline")
	}
	if err := a.withinAYear(a.in.Deadline); err != nil {
		return err
	}
	if !a.now.Before(a.c.Deadline) {
		return apperr.New(apperr.Conflict, "case.extension_too_late")
	}
	a.c.ExtPending, a.c.ExtDeadline, a.c.ExtReason = true, a.in.Deadline.UTC().Truncate(time.Millisecond), a.in.Opinion
	a.data["requested_deadline"] = a.c.ExtDeadline
	return nil
}

// approveExtension 延期批准: the new deadline is the one in force.
func (a *actCtx) approveExtension() error {
	d := a.c.ExtDeadline
	if !a.in.Deadline.IsZero() {
		d = a.in.Deadline.UTC().Truncate(time.Millisecond)
	}
	if !d.After(a.now) {
		return apperr.New(apperr.Invalid, "case.deadline_past")
	}
	if err := a.withinAYear(d); err != nil {
		return err
	}
	start := a.c.DispatchedAt
	a.c.ExtPending, a.c.ExtDeadline, a.c.ExtReason = false, time.Time{}, ""
	a.setTimer(start, d)
	// The approved deadline is the one in force: a dispatch marked overdue
	// against the old one is no longer overdue.
	a.row.set = append(a.row.set, "deadline = ?", "extensions = extensions + 1", "overdue = FALSE")
	a.row.args = append(a.row.args, store.Ms(d))
	return nil
}

// denyExtension 延期驳回.
func (a *actCtx) denyExtension() error {
	a.c.ExtPending, a.c.ExtDeadline, a.c.ExtReason = false, time.Time{}, ""
	return nil
}

// postpone 缓办: the clock stops; the dispatch leaves the on-time and closure rates.
func (a *actCtx) postpone() error {
	a.row.set = append(a.row.set, "postponed = TRUE")
	a.clearTimer()
	return nil
}

// resume 恢复办理: the clock starts again with a fresh deadline.
func (a *actCtx) resume() error {
	d, err := a.newDeadline()
	if err != nil {
		return err
	}
	a.setTimer(a.now, d)
	a.row.set = append(a.row.set, "deadline = ?")
	a.row.args = append(a.row.args, store.Ms(d))
	return nil
}

// feedback 处理反馈: the unit reports the rectification with after-photos.
func (a *actCtx) feedback() error {
	late := a.now.After(a.c.Deadline)
	a.row.set = append(a.row.set, "handled_at = ?")
	a.row.args = append(a.row.args, store.Ms(a.now))
	if late {
		a.row.set = append(a.row.set, "overdue = TRUE")
	}
	a.data["on_time"] = !late
	a.photoKind = "after"
	return nil
}

// verifyPass 核查通过 → 结案.
func (a *actCtx) verifyPass() error {
	a.c.ClosedAt = a.now
	a.row.set = append(a.row.set, "closed_at = ?")
	a.row.args = append(a.row.args, store.Ms(a.now))
	a.photoKind = "evidence"
	return nil
}

// verifyFail 核查不通过 → 返工: the same unit gets a new dispatch.
func (a *actCtx) verifyFail() error {
	d, err := a.newDeadline()
	if err != nil {
		return err
	}
	a.row.set = append(a.row.set, "reworked_at = ?")
	a.row.args = append(a.row.args, store.Ms(a.now))
	a.row.create = true
	a.c.ReworkCount++
	a.c.DispatchedAt = a.now
	a.setTimer(a.now, d)
	// The rework is a new dispatch of the same lead unit; the trail says
	// which, so that it answers for the dispatch without the case row.
	a.data["unit_id"] = a.c.LeadUnitID
	a.photoKind = "evidence"
	return nil
}

// reopen 重新办理: a closed case returns to the acceptor (an unsatisfied citizen).
func (a *actCtx) reopen() error {
	a.c.ClosedAt = time.Time{}
	a.c.LeadUnitID, a.c.CoopUnitIDs = 0, nil
	a.clearTimer()
	return nil
}

// supervise 挂牌督办.
func (a *actCtx) supervise() error {
	a.c.Supervised = true
	return nil
}

// unsupervise 摘牌.
func (a *actCtx) unsupervise() error {
	a.c.Supervised = false
	return nil
}

// comment 备注: photos that come with it are evidence.
func (a *actCtx) comment() error {
	a.photoKind = "evidence"
	return nil
}

// revisit 回访通过: the drawn revisit of the closed dispatch in force
// found the work holding.
func (a *actCtx) revisit() error {
	if err := a.takeRevisit(RevisitPassed); err != nil {
		return err
	}
	a.row.set, a.row.args = []string{"revisited_at = ?"}, []any{store.Ms(a.now)}
	return nil
}

// relapse 反弹: the drawn revisit found the problem back. The closed
// dispatch is marked (the unit's relapse figures count it) and the case
// waits for the dispatcher like a reopened one; the photos are evidence.
func (a *actCtx) relapse() error {
	if err := a.takeRevisit(RevisitFailed); err != nil {
		return err
	}
	a.row.set, a.row.args = []string{"revisited_at = ?", "relapsed_at = ?"}, []any{store.Ms(a.now), store.Ms(a.now)}
	a.c.ClosedAt = time.Time{}
	a.c.LeadUnitID, a.c.CoopUnitIDs = 0, nil
	a.clearTimer()
	return nil
}
