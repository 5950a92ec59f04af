// Package notify tells residents who left a phone number how their report
// stands, by SMS through the city's gateway: an outbox written in the
// transaction that changes the case, and a worker that sends it with
// retries. Off unless a gateway is configured. docs/notifications.md
// tells the message contract.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// SMS is one message as a gateway takes it: the fields the common Chinese
// SMS services name (a signature approved with the carrier, a template
// approved with it, and the template's parameters).
type SMS struct {
	Phone    string            `json:"phone_numbers"`
	SignName string            `json:"sign_name"`
	Template string            `json:"template_code"`
	Params   map[string]string `json:"template_param"`
	// OutID is the outbox row: a gateway that keeps it drops a repeat.
	OutID string `json:"out_id"`
}

// Gateway sends an SMS; an error is retried later.
type Gateway interface {
	Send(ctx context.Context, m SMS) error
}

// HTTPGateway posts each SMS as JSON to a gateway (the city's SMS
// platform, or an adapter in front of a provider) with a bearer token. A
// 2xx answer whose JSON, if any, has no error code is sent.
type HTTPGateway struct {
	URL    string
	Token  string
	Client *http.Client
}

// Send implements Gateway.
func (g HTTPGateway) Send(ctx context.Context, m SMS) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "chuangwen-sms/1")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	client := g.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 16<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", res.StatusCode)
	}
	// {"code":"OK"} (Alibaba Cloud's form) or {"code":0}; anything else
	// names the gateway's refusal.
	var a struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &a) == nil && a.Code != nil {
		switch v := a.Code.(type) {
		case string:
			if v != "OK" && v != "0" {
				return fmt.Errorf("gateway code %s: %s", v, a.Message)
			}
		case float64:
			if v != 0 {
				return fmt.Errorf("gateway code %v: %s", v, a.Message)
			}
		}
	}
	return nil
}

// Outbox queues the residents' status messages and sends them. It is the
// workflow's Notifier.
type Outbox struct {
	DB      *store.DB
	Gateway Gateway
	// SignName is the message signature (短信签名), e.g. 云川市文明办.
	SignName string
	// Templates maps a state (accepted, rejected, closed…) to the
	// template approved for it; a state without one sends nothing.
	Templates map[string]string
	Now       func() time.Time
	Log       *slog.Logger
}

// Backoff is the wait before each retry; after the last a message is
// given up (failed).
var Backoff = []time.Duration{time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// mobile is a mainland mobile number (what an SMS can reach).
var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// StateChanged queues a message when the case, reported by a resident
// with a mobile number, reaches a state that has a template. The
// parameters: the case number, the state's words and, for a rejection, the
// reason (cut to 20 characters, as templates allow).
func (o *Outbox) StateChanged(ctx context.Context, tx *store.Tx, c *workflow.Case, from workflow.State, opinion string, at time.Time) error {
	tpl := o.Templates[string(c.State)]
	if tpl == "" || c.Reporter == nil || !mobile.MatchString(c.Reporter.Phone) {
		return nil
	}
	params := map[string]string{"state": stateWords[c.State]}
	if !strings.HasPrefix(c.No, "~") {
		// A report being filed on PostgreSQL gets its number at the end
		// of its transaction: the sender looks it up then (SendDue).
		params["no"] = c.No
	}
	if c.State == workflow.Rejected {
		if utf8.RuneCountInString(opinion) > 20 {
			opinion = string([]rune(opinion)[:20])
		}
		params["reason"] = opinion
	}
	b, _ := json.Marshal(params)
	return tx.Defer(ctx, `INSERT INTO sms_outbox (case_id, phone, template, params, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.Reporter.Phone, tpl, string(b), store.Ms(at), store.Ms(at))
}

// stateWords name the states in the messages (the templates' variable).
var stateWords = map[workflow.State]string{
	workflow.Accepted: "已受理", workflow.Dispatched: "已派遣处置", workflow.InProgress: "处置中", workflow.Verifying: "待核查",
	workflow.Closed: "已办结", workflow.Rejected: "不予受理", workflow.Merged: "已合并处理", workflow.Voided: "已撤销",
}

// SendDue sends every message due now and returns how many it tried. A
// message is leased while it is sent, so replicas share the work; a sent
// message keeps no phone number.
func (o *Outbox) SendDue(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		var m struct {
			id, attempts, caseID int64
			phone, tpl, prms     string
		}
		now := o.now()
		ok, err := o.DB.Claim(ctx, "sms_outbox", now.Add(time.Minute), func(r store.Scanner) (int64, error) {
			err := r.Scan(&m.id, &m.attempts, &m.caseID, &m.phone, &m.tpl, &m.prms)
			return m.id, err
		}, `SELECT id, attempts, case_id, phone, template, params FROM sms_outbox
			WHERE status = 'pending' AND next_at <= ? AND lease_until < ? ORDER BY next_at, id LIMIT 1`, store.Ms(now), store.Ms(now))
		if !ok {
			return n, err
		}
		n++
		msg := SMS{Phone: m.phone, SignName: o.SignName, Template: m.tpl, OutID: fmt.Sprintf("cw-%d", m.id)}
		_ = json.Unmarshal([]byte(m.prms), &msg.Params)
		if _, ok := msg.Params["no"]; !ok && msg.Params != nil {
			var no string
			if err := o.DB.Reader().QueryRow(ctx, `SELECT no FROM cases WHERE id = ?`, m.caseID).Scan(&no); err != nil {
				return n, fmt.Errorf("sms outbox: case of message %d: %w", m.id, err)
			}
			msg.Params["no"] = no
		}
		sendErr := o.Gateway.Send(ctx, msg)
		var sent []store.Col
		if sendErr == nil {
			sent = []store.Col{{Name: "phone", Value: ""}, {Name: "sent_at", Value: store.Ms(o.now())}}
		}
		if err := o.DB.Settle(ctx, "sms_outbox", m.id, m.attempts+1, sendErr, "sent", o.now(), Backoff, sent...); err != nil {
			return n, err
		}
	}
	return n, ctx.Err()
}

// Run sends due messages every interval until ctx ends.
func (o *Outbox) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := o.SendDue(ctx); err != nil && ctx.Err() == nil && o.Log != nil {
			o.Log.Error("sms outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ParseTemplates reads "accepted=SMS_1,closed=SMS_2" (the --sms-templates
// flag).
func ParseTemplates(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" || stateWords[workflow.State(k)] == "" {
			return nil, fmt.Errorf("sms template %q: want state=TEMPLATE_CODE with a state among accepted, dispatched, in_progress, verifying, closed, rejected, merged, voided", part)
		}
		out[k] = v
	}
	return out, nil
}
