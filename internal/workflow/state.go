// Package workflow runs the case closed loop (闭环) of digital urban
// management (GB/T 30428): 信息收集 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案,
// with rework, returns, extensions, postponement, reopening and voiding;
// deadlines in working time with yellow and red warnings; the trail of
// every action; and the unit performance figures computed from it.
package workflow

import (
	"slices"

	"chuangwen/internal/org"
)

// State is where a case stands in the closed loop.
type State string

const (
	Reported   State = "reported"    // 已上报
	Accepted   State = "accepted"    // 已立案 (waiting for dispatch)
	Dispatched State = "dispatched"  // 已派遣 (waiting for the unit to acknowledge)
	InProgress State = "in_progress" // 处置中
	Postponed  State = "postponed"   // 缓办
	Verifying  State = "verifying"   // 待核查
	Closed     State = "closed"      // 已结案
	Rejected   State = "rejected"    // 不予立案
	Merged     State = "merged"      // 已合并
	Voided     State = "voided"      // 已作废
)

// States lists every state in loop order.
var States = []State{Reported, Accepted, Dispatched, InProgress, Postponed, Verifying, Closed, Rejected, Merged, Voided}

// Final reports whether no action but reading is left for the case
// (closed can still be reopened, so it is not final).
func (s State) Final() bool { return s == Rejected || s == Merged || s == Voided }

// Open reports whether the case still needs work.
func (s State) Open() bool { return !s.Final() && s != Closed }

// Timed reports whether the handling deadline runs in this state.
func (s State) Timed() bool { return s == Dispatched || s == InProgress }

// Action is something a person (or the system) does to a case.
type Action string

const (
	Accept           Action = "accept"            // 立案
	Reject           Action = "reject"            // 不予立案
	Merge            Action = "merge"             // 合并 (duplicate of another case)
	Dispatch         Action = "dispatch"          // 派遣
	Acknowledge      Action = "acknowledge"       // 签收
	Return           Action = "return"            // 退回 (wrong dispatch)
	RequestExtension Action = "request_extension" // 延期申请
	ApproveExtension Action = "approve_extension" // 同意延期
	DenyExtension    Action = "deny_extension"    // 不同意延期
	Postpone         Action = "postpone"          // 缓办
	Resume           Action = "resume"            // 恢复办理
	Feedback         Action = "feedback"          // 处理反馈
	VerifyPass       Action = "verify_pass"       // 核查通过 → 结案
	VerifyFail       Action = "verify_fail"       // 核查不通过 → 返工
	Reopen           Action = "reopen"            // 重新办理
	Void             Action = "void"              // 作废
	Supervise        Action = "supervise"         // 挂牌督办
	Unsupervise      Action = "unsupervise"       // 撤销督办
	Comment          Action = "comment"           // 备注
	// Revisit actions, taken only through a drawn revisit (回访) of a
	// closed case (revisit.go); they have no button on the case page.
	Revisit Action = "revisit" // 回访通过
	Relapse Action = "relapse" // 回访不通过 → 反弹, the case reopens
	// System actions, written by the deadline watch.
	Warn    Action = "warn"    // 黄牌预警
	Overdue Action = "overdue" // 超期
	Report  Action = "report"  // 上报
)

// Actions lists what people can do, in the order buttons are shown.
var Actions = []Action{Accept, Reject, Merge, Dispatch, Acknowledge, Return, RequestExtension, ApproveExtension, DenyExtension, Postpone, Resume, Feedback, VerifyPass, VerifyFail, Reopen, Supervise, Unsupervise, Void, Comment}

type rule struct {
	from  []State
	to    State // "" = state unchanged
	roles []org.Role
}

// rules is the closed loop of docs/domain.md (the closed loop), as data.
var rules = map[Action]rule{
	Accept:           {from: []State{Reported}, to: Accepted, roles: []org.Role{org.RoleAcceptor, org.RoleSystem}},
	Reject:           {from: []State{Reported}, to: Rejected, roles: []org.Role{org.RoleAcceptor}},
	Merge:            {from: []State{Reported, Accepted}, to: Merged, roles: []org.Role{org.RoleAcceptor}},
	Dispatch:         {from: []State{Accepted}, to: Dispatched, roles: []org.Role{org.RoleAcceptor, org.RoleSystem}},
	Acknowledge:      {from: []State{Dispatched}, to: InProgress, roles: []org.Role{org.RoleHandler}},
	Return:           {from: []State{Dispatched, InProgress}, to: Accepted, roles: []org.Role{org.RoleHandler}},
	RequestExtension: {from: []State{InProgress}, roles: []org.Role{org.RoleHandler}},
	ApproveExtension: {from: []State{InProgress}, roles: []org.Role{org.RoleAcceptor}},
	DenyExtension:    {from: []State{InProgress}, roles: []org.Role{org.RoleAcceptor}},
	Postpone:         {from: []State{InProgress}, to: Postponed, roles: []org.Role{org.RoleAcceptor}},
	Resume:           {from: []State{Postponed}, to: InProgress, roles: []org.Role{org.RoleAcceptor}},
	Feedback:         {from: []State{InProgress}, to: Verifying, roles: []org.Role{org.RoleHandler}},
	VerifyPass:       {from: []State{Verifying}, to: Closed, roles: []org.Role{org.RoleInspector, org.RoleAcceptor, org.RoleGrid}},
	VerifyFail:       {from: []State{Verifying}, to: Dispatched, roles: []org.Role{org.RoleInspector, org.RoleAcceptor, org.RoleGrid}},
	Reopen:           {from: []State{Closed}, to: Accepted, roles: []org.Role{org.RoleAcceptor, org.RoleSystem}},
	Void:             {from: []State{Reported, Accepted, Dispatched, InProgress, Postponed, Verifying}, to: Voided, roles: []org.Role{org.RoleAdmin}},
	Supervise:        {from: []State{Reported, Accepted, Dispatched, InProgress, Postponed, Verifying}, roles: []org.Role{org.RoleLeader, org.RoleAcceptor, org.RoleAdmin}},
	Unsupervise:      {from: []State{Reported, Accepted, Dispatched, InProgress, Postponed, Verifying, Closed}, roles: []org.Role{org.RoleLeader, org.RoleAcceptor, org.RoleAdmin}},
	Revisit:          {from: []State{Closed}, roles: []org.Role{org.RoleInspector, org.RoleGrid, org.RoleAcceptor}},
	Relapse:          {from: []State{Closed}, to: Accepted, roles: []org.Role{org.RoleInspector, org.RoleGrid, org.RoleAcceptor}},
	Comment:          {from: States, roles: []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleHandler, org.RoleInspector, org.RoleGrid, org.RoleLeader}},
}

// Next returns the state a case in s moves to when a is done, and whether
// a is allowed in s at all. Conditions beyond the state (a pending
// extension, the supervision flag) are checked by Allowed.
func Next(s State, a Action) (State, bool) {
	r, ok := rules[a]
	if !ok || !slices.Contains(r.from, s) {
		return s, false
	}
	if r.to == "" {
		return s, true
	}
	return r.to, true
}

// RoleMay reports whether a role may ever take action a.
func RoleMay(role org.Role, a Action) bool {
	r, ok := rules[a]
	return ok && slices.Contains(r.roles, role)
}

// Allowed reports whether actor may take action a on c now: the state
// allows it, the role allows it, and for unit handlers the case is their
// unit's (lead unit; cooperating units may only comment).
func Allowed(actor org.Actor, c *Case, a Action) bool {
	if _, ok := Next(c.State, a); !ok || !RoleMay(actor.Role, a) {
		return false
	}
	switch a {
	case RequestExtension:
		if c.ExtPending {
			return false
		}
	case ApproveExtension, DenyExtension:
		if !c.ExtPending {
			return false
		}
	case Supervise:
		if c.Supervised {
			return false
		}
	case Unsupervise:
		if !c.Supervised {
			return false
		}
	}
	if actor.Role == org.RoleHandler && a != Comment && c.LeadUnitID != actor.UnitID {
		return false
	}
	return true
}

// AllowedActions lists what actor may do to c now, in display order.
func AllowedActions(actor org.Actor, c *Case) []Action {
	var out []Action
	for _, a := range Actions {
		if Allowed(actor, c, a) {
			out = append(out, a)
		}
	}
	return out
}

// ActionKey is the message key of an action's name ("action.dispatch").
func ActionKey(a Action) string { return "action." + string(a) }
