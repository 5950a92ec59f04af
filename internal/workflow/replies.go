package workflow

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Stock replies (常用语): for each action, the office's usual wordings of
// its opinion (办理意见), offered in the action's form so that a dispatcher
// picks "请于今日内清理完毕并拍照反馈" instead of typing it the hundredth
// time.

// Limits of stock replies.
const (
	MaxStockReplies    = 20  // per action
	maxStockReplyRunes = 200 // per reply
)

// StockReplies returns every action's replies in order.
func (s *Service) StockReplies(ctx context.Context) (map[Action][]string, error) {
	type row struct {
		action, text string
	}
	rows, err := store.Collect(ctx, s.DB.Reader(), func(sc store.Scanner) (r row, err error) {
		return r, sc.Scan(&r.action, &r.text)
	}, `SELECT action, text FROM stock_replies ORDER BY action, ord`)
	if err != nil {
		return nil, fmt.Errorf("stock replies: %w", err)
	}
	out := map[Action][]string{}
	for _, r := range rows {
		out[Action(r.action)] = append(out[Action(r.action)], r.text)
	}
	return out, nil
}

// SetStockReplies replaces an action's replies (blank lines dropped). The
// office's administrators and acceptors keep them.
func (s *Service) SetStockReplies(ctx context.Context, actor org.Actor, action Action, texts []string) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleAcceptor && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if !slices.Contains(Actions, action) {
		return apperr.New(apperr.Invalid, "case.bad_action", "action", string(action))
	}
	var keep []string
	for _, t := range texts {
		t = strings.TrimSpace(t)
		if t == "" || slices.Contains(keep, t) {
			continue
		}
		if utf8.RuneCountInString(t) > maxStockReplyRunes {
			return apperr.New(apperr.Invalid, "reply.too_long", "max", strconv.Itoa(maxStockReplyRunes))
		}
		keep = append(keep, t)
	}
	if len(keep) > MaxStockReplies {
		return apperr.New(apperr.Invalid, "reply.too_many", "max", strconv.Itoa(MaxStockReplies))
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM stock_replies WHERE action = ?`, string(action)); err != nil {
			return err
		}
		for i, t := range keep {
			if _, err := tx.Exec(ctx, `INSERT INTO stock_replies (action, text, ord) VALUES (?, ?, ?)`, string(action), t, i); err != nil {
				return err
			}
		}
		return s.logAdmin(ctx, tx, actor, "replies.save", map[string]any{"action": action, "replies": len(keep)})
	})
}
