package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// The escalation ladder (问责阶梯): the subject at the bottom place of a
// round — the district with the lowest rate, the unit that lost the most
// points — once in a row is called to a talk with the deputy mayor in
// charge (约谈, step 1), twice in a row is reported to the organisation
// department (组织部, step 2), three times or more is held accountable
// (问责, step 3). "In a row" counts the closed mock rounds of the same
// edition code back from the round, without gaps; a shared bottom place is
// nobody's. The system proposes; the office confirms, and the
// confirmation is recorded with its evidence.

// Subjects of the ladder.
const (
	SubjectDistrict = "district"
	SubjectUnit     = "unit"
)

// Proposal is a step of the ladder the system proposes for a round.
type Proposal struct {
	Kind      string      `json:"kind"` // district or unit
	Code      string      `json:"code"`
	Level     int         `json:"level"` // 1 约谈, 2 组织部, 3 问责
	Evidence  []Evidence  `json:"evidence"`
	Confirmed *Escalation `json:"confirmed,omitempty"`
}

// Evidence is one round of a streak: the subject's figures in it.
type Evidence struct {
	Round string `json:"round"`
	Date  string `json:"date"`
	Rate  string `json:"rate,omitempty"` // a district's score rate, printed
	Lost  string `json:"lost"`           // points lost, printed
	Rank  int    `json:"rank"`
	Of    int    `json:"of"` // how many were ranked
}

// Escalation is a confirmed step.
type Escalation struct {
	ID          int64      `json:"id"`
	Round       string     `json:"round"`
	Kind        string     `json:"kind"`
	Code        string     `json:"code"`
	Level       int        `json:"level"`
	Evidence    []Evidence `json:"evidence"`
	Note        string     `json:"note"`
	ConfirmedBy string     `json:"confirmed_by"`
	ConfirmedAt int64      `json:"confirmed_at"`
}

// MaxLevel is the top of the ladder.
const MaxLevel = 3

// Proposals returns the ladder's proposals for a closed round: its bottom
// district and bottom unit, each with its streak, and the confirmation
// when there is one.
func (s *Service) Proposals(ctx context.Context, actor org.Actor, code string) ([]Proposal, error) {
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, code)
	if err != nil {
		return nil, err
	}
	trend, err := s.trend(ctx, actor, rd.Edition, true)
	if err != nil {
		return nil, err
	}
	var upTo []Rankings
	for _, r := range trend {
		if r.Round.State == RoundClosed {
			upTo = append(upTo, r)
		}
		if r.Round.ID == rd.ID {
			break
		}
	}
	if len(upTo) == 0 || upTo[len(upTo)-1].Round.ID != rd.ID {
		return []Proposal{}, nil
	}
	out := []Proposal{}
	for _, kind := range []string{SubjectDistrict, SubjectUnit} {
		list := func(r Rankings) []Standing {
			if kind == SubjectUnit {
				return r.Units
			}
			return r.Districts
		}
		bottom := Bottom(list(upTo[len(upTo)-1]), kind == SubjectUnit)
		if bottom == "" {
			continue
		}
		p := Proposal{Kind: kind, Code: bottom}
		for i := len(upTo) - 1; i >= 0; i-- {
			rows := list(upTo[i])
			if Bottom(rows, kind == SubjectUnit) != bottom {
				break
			}
			for _, st := range rows {
				if st.Code != bottom {
					continue
				}
				ev := Evidence{Round: upTo[i].Round.Code, Date: upTo[i].Round.Date, Lost: RoundString(st.Lost, PointPlaces), Rank: st.Rank, Of: len(rows)}
				if st.Rate != nil {
					ev.Rate = RoundString(st.Rate, RatePlaces)
				}
				p.Evidence = append([]Evidence{ev}, p.Evidence...)
			}
		}
		p.Level = min(len(p.Evidence), MaxLevel)
		out = append(out, p)
	}
	done, err := s.escalations(ctx, q, `e.round_id = ?`, rd.ID)
	if err != nil {
		return nil, err
	}
	for i := range out {
		for j := range done {
			if done[j].Kind == out[i].Kind && done[j].Code == out[i].Code {
				out[i].Confirmed = &done[j]
			}
		}
	}
	return out, nil
}

// ConfirmEscalation records the proposed step for a round's bottom
// district or unit, with its evidence and the office's note. The
// administrator's; once per subject and round.
func (s *Service) ConfirmEscalation(ctx context.Context, actor org.Actor, code, kind, subject, note string) (Escalation, error) {
	if err := canWrite(actor); err != nil {
		return Escalation{}, err
	}
	props, err := s.Proposals(ctx, actor, code)
	if err != nil {
		return Escalation{}, err
	}
	var p *Proposal
	for i := range props {
		if props[i].Kind == kind && props[i].Code == subject {
			p = &props[i]
		}
	}
	if p == nil {
		return Escalation{}, apperr.New(apperr.Invalid, "assess.no_proposal", "subject", subject)
	}
	if p.Confirmed != nil {
		return *p.Confirmed, apperr.New(apperr.Conflict, "assess.escalation_done", "subject", subject)
	}
	ev, _ := json.Marshal(p.Evidence)
	note = strings.TrimSpace(note)
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		rd, err := roundByCode(ctx, tx, code)
		if err != nil {
			return err
		}
		_, err = store.InsertID(ctx, tx, `INSERT INTO assess_escalations (round_id, subject_kind, subject_code, level, evidence, note, confirmed_by, confirmed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, rd.ID, kind, subject, p.Level, string(ev), note, nullID(actor.UserID), store.Ms(s.now()))
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "assess.escalation_done", "subject", subject)
		}
		if err != nil {
			return err
		}
		return s.trail(ctx, tx, actor, "assess.escalation", map[string]any{"round": rd.Code, "kind": kind, "subject": subject, "level": p.Level, "note": note})
	})
	if err != nil {
		return Escalation{}, err
	}
	done, err := s.escalations(ctx, s.DB.Reader(), `e.subject_kind = ? AND e.subject_code = ?`, kind, subject)
	for _, e := range done {
		if e.Round == code {
			return e, err
		}
	}
	return Escalation{}, err
}

// Escalations lists the confirmed steps, newest first; kind and subject
// narrow the list when not empty.
func (s *Service) Escalations(ctx context.Context, actor org.Actor, kind, subject string) ([]Escalation, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	cond, args := "1 = 1", []any{}
	if kind != "" {
		if kind != SubjectDistrict && kind != SubjectUnit {
			return nil, apperr.New(apperr.Invalid, "assess.bad_subject_kind", "kind", kind)
		}
		cond, args = cond+" AND e.subject_kind = ?", append(args, kind)
	}
	if subject != "" {
		cond, args = cond+" AND e.subject_code = ?", append(args, subject)
	}
	return s.escalations(ctx, s.DB.Reader(), cond, args...)
}

func (s *Service) escalations(ctx context.Context, q store.Queryer, cond string, args ...any) ([]Escalation, error) {
	out, err := store.Collect(ctx, q, func(r store.Scanner) (e Escalation, err error) {
		var ev string
		if err = r.Scan(&e.ID, &e.Round, &e.Kind, &e.Code, &e.Level, &ev, &e.Note, &e.ConfirmedBy, &e.ConfirmedAt); err == nil {
			err = json.Unmarshal([]byte(ev), &e.Evidence)
		}
		return e, err
	}, `SELECT e.id, r.code, e.subject_kind, e.subject_code, e.level, e.evidence, e.note, COALESCE(u.display_name, ''), e.confirmed_at
		FROM assess_escalations e JOIN assess_rounds r ON r.id = e.round_id LEFT JOIN users u ON u.id = e.confirmed_by
		WHERE `+cond+` ORDER BY e.confirmed_at DESC, e.id DESC`, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return out, err
}
