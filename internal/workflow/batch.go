package workflow

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
)

// Batch actions (批量处理): an acceptor's morning is a list of reports to
// accept, dispatch to the units the table names, merge into one, or list
// for supervision. Each case is acted on in its own transaction, so one
// refusal leaves the others done, and each gets its own result.

// BatchActions are the actions a list can take on many cases at once.
var BatchActions = []Action{Accept, Dispatch, Merge, Supervise}

// MaxBatch bounds the cases of one batch.
const MaxBatch = 200

// BatchInput is one batch: the action, for a merge the number of the case
// the others join, and the opinion every case's trail records.
type BatchInput struct {
	Action      Action  `json:"action"`
	IDs         []int64 `json:"ids"`
	MergeIntoNo string  `json:"merge_into_no,omitempty"`
	Opinion     string  `json:"opinion,omitempty"`
}

// BatchResult is what became of one case of a batch.
type BatchResult struct {
	ID    int64  `json:"id"`
	No    string `json:"no,omitempty"`
	OK    bool   `json:"ok"`
	State State  `json:"state,omitempty"`
	Err   error  `json:"-"` // the refusal; the web layer words it
}

// Batch acts on each case of in.IDs (in order, each once) and returns a
// result per case. A dispatch sends each case to the units SuggestDispatch
// names for it; a case with no suggestion is refused alone. What makes
// the whole batch wrong (an action not offered, too many cases, an
// unknown merge target) is the error, with nothing done.
func (s *Service) Batch(ctx context.Context, actor org.Actor, in BatchInput) ([]BatchResult, error) {
	if !slices.Contains(BatchActions, in.Action) {
		return nil, apperr.New(apperr.Invalid, "batch.bad_action", "action", string(in.Action))
	}
	ids := in.IDs
	if len(ids) == 0 {
		return nil, apperr.New(apperr.Invalid, "batch.none")
	}
	if len(ids) > MaxBatch {
		return nil, apperr.New(apperr.Invalid, "batch.too_many", "max", strconv.Itoa(MaxBatch))
	}
	var into int64
	if in.Action == Merge {
		no := strings.TrimSpace(in.MergeIntoNo)
		page, err := s.List(ctx, actor, Filter{No: no, Limit: 1})
		if err != nil {
			return nil, err
		}
		if no == "" || len(page.Cases) == 0 {
			return nil, apperr.New(apperr.Invalid, "case.merge_target")
		}
		into = page.Cases[0].ID
	}
	seen := map[int64]bool{}
	var out []BatchResult
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		r := BatchResult{ID: id}
		r.Err = s.batchOne(ctx, actor, id, in, into, &r)
		r.OK = r.Err == nil
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) batchOne(ctx context.Context, actor org.Actor, id int64, in BatchInput, into int64, r *BatchResult) error {
	c, err := s.Get(ctx, actor, id)
	if err != nil {
		return err
	}
	r.No, r.State = c.No, c.State
	act := ActInput{Action: in.Action, Opinion: in.Opinion, Version: c.Version}
	switch in.Action {
	case Merge:
		if id == into {
			return apperr.New(apperr.Invalid, "batch.merge_self")
		}
		act.MergeInto = into
	case Dispatch:
		sug, err := s.SuggestDispatch(ctx, c)
		if err != nil {
			return err
		}
		if sug.LeadUnitID == 0 {
			return apperr.New(apperr.Invalid, "batch.no_suggestion")
		}
		act.LeadUnitID, act.CoopUnitIDs = sug.LeadUnitID, sug.CoopUnitIDs
	}
	c, err = s.Act(ctx, actor, id, act)
	if err != nil {
		return err
	}
	r.State = c.State
	return nil
}
