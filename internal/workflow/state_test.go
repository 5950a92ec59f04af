package workflow_test

import (
	"slices"
	"testing"

	"chuangwen/internal/org"
	"chuangwen/internal/workflow"
)

// Short names for the table below.
const (
	sReported   = workflow.Reported
	sAccepted   = workflow.Accepted
	sDispatched = workflow.Dispatched
	sInProgress = workflow.InProgress
	sPostponed  = workflow.Postponed
	sVerifying  = workflow.Verifying
	sClosed     = workflow.Closed
	sRejected   = workflow.Rejected
	sMerged     = workflow.Merged
	sVoided     = workflow.Voided
)

// allStates is written out here rather than taken from workflow.States, so
// that a state dropped from that list is noticed.
var allStates = []workflow.State{sReported, sAccepted, sDispatched, sInProgress, sPostponed, sVerifying, sClosed, sRejected, sMerged, sVoided}

// allActions is every action the package names (people's and the system's),
// plus one it does not know.
var allActions = []workflow.Action{
	workflow.Accept, workflow.Reject, workflow.Merge, workflow.Dispatch, workflow.Acknowledge, workflow.Return,
	workflow.RequestExtension, workflow.ApproveExtension, workflow.DenyExtension, workflow.Postpone, workflow.Resume,
	workflow.Feedback, workflow.VerifyPass, workflow.VerifyFail, workflow.Reopen, workflow.Void, workflow.Supervise,
	workflow.Unsupervise, workflow.Comment, workflow.Revisit, workflow.Relapse, workflow.Warn, workflow.Overdue, workflow.Report, workflow.Action("bogus"),
}

// openStates are the states docs/domain.md calls "open" (void 作废 applies).
var openStates = []workflow.State{sReported, sAccepted, sDispatched, sInProgress, sPostponed, sVerifying}

// expectedTransitions is the closed loop of docs/domain.md (the closed loop), written
// independently of the rules map: for each state, the actions allowed in it
// and the state they lead to. Anything absent is forbidden.
func expectedTransitions() map[workflow.State]map[workflow.Action]workflow.State {
	t := map[workflow.State]map[workflow.Action]workflow.State{}
	for _, s := range allStates {
		t[s] = map[workflow.Action]workflow.State{}
	}
	set := func(from workflow.State, a workflow.Action, to workflow.State) { t[from][a] = to }

	// From the actions table of docs/domain.md.
	set(sReported, workflow.Accept, sAccepted) // 立案
	set(sReported, workflow.Reject, sRejected) // 不予立案
	set(sReported, workflow.Merge, sMerged)    // 合并
	// A case accepted on arrival (inspectors, grid workers, auto-accept
	// categories) can still turn out to duplicate an earlier one before
	// it is dispatched.
	set(sAccepted, workflow.Merge, sMerged)
	set(sAccepted, workflow.Dispatch, sDispatched)           // 派遣
	set(sDispatched, workflow.Acknowledge, sInProgress)      // 签收
	set(sDispatched, workflow.Return, sAccepted)             // 退回
	set(sInProgress, workflow.Return, sAccepted)             // 退回
	set(sInProgress, workflow.RequestExtension, sInProgress) // 延期申请: same state, pending
	set(sInProgress, workflow.ApproveExtension, sInProgress) // dispatcher approves
	set(sInProgress, workflow.DenyExtension, sInProgress)    // or denies
	set(sInProgress, workflow.Postpone, sPostponed)          // 缓办
	set(sInProgress, workflow.Feedback, sVerifying)          // 处理反馈
	set(sVerifying, workflow.VerifyPass, sClosed)            // 核查通过 → 结案
	set(sVerifying, workflow.VerifyFail, sDispatched)        // 返工
	set(sClosed, workflow.Reopen, sAccepted)                 // 重新办理
	// The re-checks of docs/rechecks.md: a drawn revisit of a closed case
	// passes (the case stays closed) or finds a relapse (it reopens).
	set(sClosed, workflow.Revisit, sClosed)   // 回访通过
	set(sClosed, workflow.Relapse, sAccepted) // 反弹
	for _, s := range openStates {
		set(s, workflow.Void, sVoided) // any open → voided
	}
	// Not in the table but implied by it: a postponed case resumes handling.
	set(sPostponed, workflow.Resume, sInProgress)
	// Listed supervision (挂牌督办) flags an open case without moving it and
	// can be lifted while the case is open or once it is closed.
	for _, s := range openStates {
		set(s, workflow.Supervise, s)
		set(s, workflow.Unsupervise, s)
	}
	set(sClosed, workflow.Unsupervise, sClosed)
	// Every action is recorded on the trail; a remark can be added in any
	// state, final ones included.
	for _, s := range allStates {
		set(s, workflow.Comment, s)
	}
	return t
}

func TestNextEveryStateAndAction(t *testing.T) {
	if !slices.Equal(workflow.States, allStates) {
		t.Errorf("workflow.States = %v, want %v", workflow.States, allStates)
	}
	want := expectedTransitions()
	allowed := 0
	for _, s := range allStates {
		for _, a := range allActions {
			to, ok := workflow.Next(s, a)
			wantTo, wantOK := want[s][a]
			if ok != wantOK {
				t.Errorf("Next(%s, %s) allowed = %v, want %v", s, a, ok, wantOK)
				continue
			}
			if !wantOK {
				wantTo = s // a forbidden action leaves the state as it is
			}
			if to != wantTo {
				t.Errorf("Next(%s, %s) = %s, want %s", s, a, to, wantTo)
			}
			if ok {
				allowed++
			}
		}
	}
	if allowed == 0 {
		t.Fatal("no transition allowed at all")
	}
}

func TestFinalStatesAllowOnlyComment(t *testing.T) {
	for _, s := range []workflow.State{sRejected, sMerged, sVoided} {
		for _, a := range allActions {
			if _, ok := workflow.Next(s, a); ok != (a == workflow.Comment) {
				t.Errorf("final state %s: Next(%s) allowed = %v", s, a, ok)
			}
		}
	}
}

func TestStatePredicates(t *testing.T) {
	for _, s := range allStates {
		final := s == sRejected || s == sMerged || s == sVoided
		open := slices.Contains(openStates, s)
		timed := s == sDispatched || s == sInProgress
		if s.Final() != final || s.Open() != open || s.Timed() != timed {
			t.Errorf("%s: Final=%v Open=%v Timed=%v, want %v %v %v", s, s.Final(), s.Open(), s.Timed(), final, open, timed)
		}
	}
}

// expectedRoles is who moves a case, from the "Who" column of the actions
// table in docs/domain.md (the closed loop) and its roles section.
func expectedRoles() map[workflow.Action][]org.Role {
	office := []org.Role{org.RoleLeader, org.RoleAcceptor, org.RoleAdmin}
	verifiers := []org.Role{org.RoleInspector, org.RoleAcceptor, org.RoleGrid}
	return map[workflow.Action][]org.Role{
		// The system accepts and dispatches on arrival when the source or
		// the category says so (auto-accept, auto-dispatch).
		workflow.Accept:           {org.RoleAcceptor, org.RoleSystem},
		workflow.Reject:           {org.RoleAcceptor},
		workflow.Merge:            {org.RoleAcceptor},
		workflow.Dispatch:         {org.RoleAcceptor, org.RoleSystem},
		workflow.Acknowledge:      {org.RoleHandler},
		workflow.Return:           {org.RoleHandler},
		workflow.RequestExtension: {org.RoleHandler},
		workflow.ApproveExtension: {org.RoleAcceptor},
		workflow.DenyExtension:    {org.RoleAcceptor},
		workflow.Postpone:         {org.RoleAcceptor},
		workflow.Resume:           {org.RoleAcceptor},
		workflow.Feedback:         {org.RoleHandler},
		workflow.VerifyPass:       verifiers,
		workflow.VerifyFail:       verifiers,
		workflow.Reopen:           {org.RoleAcceptor, org.RoleSystem},
		workflow.Revisit:          verifiers,
		workflow.Relapse:          verifiers,
		workflow.Void:             {org.RoleAdmin},
		workflow.Supervise:        office,
		workflow.Unsupervise:      office,
		workflow.Comment:          {org.RoleAdmin, org.RoleAcceptor, org.RoleHandler, org.RoleInspector, org.RoleGrid, org.RoleLeader},
		// The system's own trail entries are not actions anyone "may take".
		workflow.Warn:    nil,
		workflow.Overdue: nil,
		workflow.Report:  nil,
		"bogus":          nil,
	}
}

func TestRoleMayEveryRoleAndAction(t *testing.T) {
	roles := append(append([]org.Role{}, org.Roles...), org.RoleClient, org.RoleSystem, org.Role("nobody"))
	want := expectedRoles()
	for _, a := range allActions {
		for _, r := range roles {
			if got, w := workflow.RoleMay(r, a), slices.Contains(want[a], r); got != w {
				t.Errorf("RoleMay(%s, %s) = %v, want %v", r, a, got, w)
			}
		}
	}
	// Volunteers, API clients act on no case.
	for _, a := range allActions {
		if workflow.RoleMay(org.RoleVolunteer, a) || workflow.RoleMay(org.RoleClient, a) {
			t.Errorf("volunteer or client may %s", a)
		}
	}
}

func TestActionsListIsEveryPersonAction(t *testing.T) {
	for _, a := range workflow.Actions {
		if len(expectedRoles()[a]) == 0 {
			t.Errorf("Actions lists %s, which nobody may take", a)
		}
	}
	// The revisit actions have no button: only a drawn revisit takes them
	// (RecordRevisit).
	revisitOnly := []workflow.Action{workflow.Revisit, workflow.Relapse}
	for _, a := range revisitOnly {
		if slices.Contains(workflow.Actions, a) {
			t.Errorf("Actions lists %s, which only a drawn revisit takes", a)
		}
	}
	for a, roles := range expectedRoles() {
		if len(roles) > 0 && !slices.Contains(workflow.Actions, a) && !slices.Contains(revisitOnly, a) {
			t.Errorf("Actions misses %s", a)
		}
	}
}

func TestAllowed(t *testing.T) {
	const unitA, unitB = 11, 22
	handlerA := org.Actor{UserID: 1, Role: org.RoleHandler, UnitID: unitA, Scope: org.ScopeUnit}
	handlerB := org.Actor{UserID: 2, Role: org.RoleHandler, UnitID: unitB, Scope: org.ScopeUnit}
	acceptor := org.Actor{UserID: 3, Role: org.RoleAcceptor, Scope: org.ScopeCity}
	leader := org.Actor{UserID: 4, Role: org.RoleLeader, Scope: org.ScopeCity}
	admin := org.Actor{UserID: 5, Role: org.RoleAdmin, Scope: org.ScopeCity}
	inspector := org.Actor{UserID: 6, Role: org.RoleInspector, Scope: org.ScopeCity}

	c := func(s workflow.State, mods ...func(*workflow.Case)) *workflow.Case {
		cs := &workflow.Case{ID: 1, State: s, LeadUnitID: unitA, CoopUnitIDs: []int64{unitB}}
		for _, m := range mods {
			m(cs)
		}
		return cs
	}
	pending := func(c *workflow.Case) { c.ExtPending = true }
	supervised := func(c *workflow.Case) { c.Supervised = true }

	cases := []struct {
		name  string
		actor org.Actor
		c     *workflow.Case
		a     workflow.Action
		want  bool
	}{
		{"lead handler acknowledges", handlerA, c(sDispatched), workflow.Acknowledge, true},
		{"cooperating unit cannot acknowledge", handlerB, c(sDispatched), workflow.Acknowledge, false},
		{"cooperating unit cannot return", handlerB, c(sInProgress), workflow.Return, false},
		{"cooperating unit cannot feed back", handlerB, c(sInProgress), workflow.Feedback, false},
		{"cooperating unit may comment", handlerB, c(sInProgress), workflow.Comment, true},
		{"handler of unrelated unit may comment (scope is checked on load)", org.Actor{Role: org.RoleHandler, UnitID: 99}, c(sInProgress), workflow.Comment, true},
		{"lead handler in wrong state", handlerA, c(sVerifying), workflow.Feedback, false},
		{"acceptor cannot acknowledge", acceptor, c(sDispatched), workflow.Acknowledge, false},

		{"request extension, none pending", handlerA, c(sInProgress), workflow.RequestExtension, true},
		{"request extension while one is pending", handlerA, c(sInProgress, pending), workflow.RequestExtension, false},
		{"approve without a request", acceptor, c(sInProgress), workflow.ApproveExtension, false},
		{"deny without a request", acceptor, c(sInProgress), workflow.DenyExtension, false},
		{"approve a pending request", acceptor, c(sInProgress, pending), workflow.ApproveExtension, true},
		{"deny a pending request", acceptor, c(sInProgress, pending), workflow.DenyExtension, true},
		{"handler cannot approve own request", handlerA, c(sInProgress, pending), workflow.ApproveExtension, false},
		{"request extension while dispatched", handlerA, c(sDispatched), workflow.RequestExtension, false},

		{"leader supervises", leader, c(sInProgress), workflow.Supervise, true},
		{"supervise when already supervised", leader, c(sInProgress, supervised), workflow.Supervise, false},
		{"unsupervise when not supervised", acceptor, c(sInProgress), workflow.Unsupervise, false},
		{"unsupervise a supervised case", admin, c(sInProgress, supervised), workflow.Unsupervise, true},
		{"unsupervise a closed supervised case", leader, c(sClosed, supervised), workflow.Unsupervise, true},
		{"supervise a closed case", leader, c(sClosed), workflow.Supervise, false},
		{"inspector cannot supervise", inspector, c(sInProgress), workflow.Supervise, false},

		{"admin voids", admin, c(sInProgress), workflow.Void, true},
		{"acceptor cannot void", acceptor, c(sInProgress), workflow.Void, false},
		{"void a closed case", admin, c(sClosed), workflow.Void, false},
		{"inspector verifies", inspector, c(sVerifying), workflow.VerifyPass, true},
		{"handler cannot verify", handlerA, c(sVerifying), workflow.VerifyPass, false},
	}
	for _, tc := range cases {
		if got := workflow.Allowed(tc.actor, tc.c, tc.a); got != tc.want {
			t.Errorf("%s: Allowed(%s) = %v, want %v", tc.name, tc.a, got, tc.want)
		}
	}
}

func TestAllowedActions(t *testing.T) {
	handlerA := org.Actor{Role: org.RoleHandler, UnitID: 7, Scope: org.ScopeUnit}
	handlerB := org.Actor{Role: org.RoleHandler, UnitID: 8, Scope: org.ScopeUnit}
	acceptor := org.Actor{Role: org.RoleAcceptor, Scope: org.ScopeCity}
	inProgress := &workflow.Case{State: sInProgress, LeadUnitID: 7}

	check := func(name string, got, want []workflow.Action) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: AllowedActions = %v, want %v", name, got, want)
		}
	}
	check("lead handler, in progress", workflow.AllowedActions(handlerA, inProgress),
		[]workflow.Action{workflow.Return, workflow.RequestExtension, workflow.Feedback, workflow.Comment})
	check("other handler, in progress", workflow.AllowedActions(handlerB, inProgress),
		[]workflow.Action{workflow.Comment})
	check("acceptor, in progress", workflow.AllowedActions(acceptor, inProgress),
		[]workflow.Action{workflow.Postpone, workflow.Supervise, workflow.Comment})
	check("acceptor, in progress with pending extension", workflow.AllowedActions(acceptor, &workflow.Case{State: sInProgress, LeadUnitID: 7, ExtPending: true}),
		[]workflow.Action{workflow.ApproveExtension, workflow.DenyExtension, workflow.Postpone, workflow.Supervise, workflow.Comment})
	check("acceptor, reported", workflow.AllowedActions(acceptor, &workflow.Case{State: sReported}),
		[]workflow.Action{workflow.Accept, workflow.Reject, workflow.Merge, workflow.Supervise, workflow.Comment})
	check("volunteer, reported", workflow.AllowedActions(org.Actor{Role: org.RoleVolunteer}, &workflow.Case{State: sReported}), nil)
}
