package report

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Webhooks deliver each supervision notice as JSON to the endpoints the
// administrator registers: a unit's own system (its notices), or one for
// every unit. Each delivery is signed and logged, and retried with
// backoff until the endpoint answers 2xx or the attempts run out.
//
// A request carries the notice (NoticeDoc) as its body and the headers
//
//	X-Chuangwen-Event:     notice
//	X-Chuangwen-Delivery:  the delivery's id
//	X-Chuangwen-Timestamp: unix seconds
//	X-Chuangwen-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// so that a receiver can check the sender and refuse replays of old
// requests.

// Backoff is the wait before each retry; after the last one a delivery
// is given up (status failed).
var Backoff = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 12 * time.Hour}

// Webhook is a registered endpoint. The secret is shown once, when it is
// created.
type Webhook struct {
	ID        int64  `json:"id"`
	URL       string `json:"url"`
	Format    string `json:"format"`         // json, wecom or dingtalk (robots.go)
	Unit      string `json:"unit,omitempty"` // "" every unit
	Active    bool   `json:"active"`
	CreatedAt int64  `json:"created_at"`
	Secret    string `json:"secret,omitempty"`
}

// Delivery is a line of the delivery log.
type Delivery struct {
	ID          int64  `json:"id"`
	WebhookID   int64  `json:"webhook_id"`
	Notice      string `json:"notice"`
	Status      string `json:"status"` // pending, delivered, failed
	Attempts    int    `json:"attempts"`
	NextAt      int64  `json:"next_at,omitempty"`
	LastStatus  int    `json:"last_status,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	CreatedAt   int64  `json:"created_at"`
	DeliveredAt int64  `json:"delivered_at,omitempty"`
}

func admin(a org.Actor) error {
	if a.Role == org.RoleAdmin || a.Role == org.RoleSystem {
		return nil
	}
	return apperr.New(apperr.Forbidden, "forbidden")
}

// AddWebhook registers an endpoint (http or https) for one unit's notices
// (unitCode) or every unit's (""), with a new random secret.
func (s *Service) AddWebhook(ctx context.Context, actor org.Actor, rawURL, unitCode string) (Webhook, error) {
	return s.AddEndpoint(ctx, actor, NewWebhook{URL: rawURL, Unit: unitCode})
}

// NewWebhook is an endpoint to register.
type NewWebhook struct {
	URL    string `json:"url"`
	Unit   string `json:"unit,omitempty"`
	Format string `json:"format,omitempty"` // json (default), wecom, dingtalk
	// Secret is a DingTalk robot's signing secret (SEC…), when it signs;
	// a json endpoint gets a new random secret, a WeCom robot none (its
	// key is in its URL).
	Secret string `json:"secret,omitempty"`
}

// AddEndpoint registers an endpoint in one of the formats.
func (s *Service) AddEndpoint(ctx context.Context, actor org.Actor, in NewWebhook) (Webhook, error) {
	if err := admin(actor); err != nil {
		return Webhook{}, err
	}
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return Webhook{}, apperr.New(apperr.Invalid, "report.bad_webhook_url")
	}
	if in.Format == "" {
		in.Format = FormatJSON
	}
	in.Secret = strings.TrimSpace(in.Secret)
	var secret string
	switch in.Format {
	case FormatJSON:
		var b [24]byte
		_, _ = rand.Read(b[:])
		secret = hex.EncodeToString(b[:])
	case FormatDingTalk:
		if len(in.Secret) > 200 || strings.ContainsAny(in.Secret, " \t\r\n") {
			return Webhook{}, apperr.New(apperr.Invalid, "report.bad_webhook_secret")
		}
		secret = in.Secret
	case FormatWeCom:
	default:
		return Webhook{}, apperr.New(apperr.Invalid, "report.bad_webhook_format")
	}
	w := Webhook{URL: u.String(), Format: in.Format, Unit: strings.TrimSpace(in.Unit), Active: true, CreatedAt: store.Ms(s.now())}
	if in.Format == FormatJSON {
		w.Secret = secret // shown once
	}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var unitID int64
		if w.Unit != "" {
			err := tx.QueryRow(ctx, `SELECT id FROM units WHERE code = ?`, w.Unit).Scan(&unitID)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err != nil {
				return apperr.New(apperr.Invalid, "report.no_unit", "unit", w.Unit)
			}
		}
		var err error
		if w.ID, err = store.InsertID(ctx, tx, `INSERT INTO webhooks (url, secret, unit_id, created_at, format) VALUES (?, ?, ?, ?, ?)`, w.URL, secret, nullID(unitID), w.CreatedAt, w.Format); err != nil {
			return err
		}
		return appendTrail(ctx, tx, actor, s.now(), "webhook.add", map[string]any{"webhook": w.ID, "url": w.URL, "unit": w.Unit, "format": w.Format})
	})
	return w, err
}

// Webhooks lists the endpoints (without their secrets).
func (s *Service) Webhooks(ctx context.Context, actor org.Actor) ([]Webhook, error) {
	if err := admin(actor); err != nil {
		return nil, err
	}
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (w Webhook, err error) {
		return w, r.Scan(&w.ID, &w.URL, &w.Format, &w.Unit, &w.Active, &w.CreatedAt)
	}, `SELECT w.id, w.url, w.format, COALESCE(u.code, ''), w.active, w.created_at FROM webhooks w LEFT JOIN units u ON u.id = w.unit_id ORDER BY w.id`)
}

// SetWebhookActive turns an endpoint off (its pending deliveries wait) or
// on again.
func (s *Service) SetWebhookActive(ctx context.Context, actor org.Actor, id int64, active bool) error {
	if err := admin(actor); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "not_found"), `UPDATE webhooks SET active = ? WHERE id = ?`, active, id); err != nil {
			return err
		}
		return appendTrail(ctx, tx, actor, s.now(), "webhook.active", map[string]any{"webhook": id, "active": active})
	})
}

// Deliveries lists the delivery log, newest first (webhookID 0: all).
func (s *Service) Deliveries(ctx context.Context, actor org.Actor, webhookID int64, limit int) ([]Delivery, error) {
	if err := admin(actor); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (d Delivery, err error) {
		return d, r.Scan(&d.ID, &d.WebhookID, &d.Notice, &d.Status, &d.Attempts, &d.NextAt, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.DeliveredAt)
	}, `SELECT d.id, d.webhook_id, n.no, d.status, d.attempts, d.next_at, d.last_status, d.last_error, d.created_at, d.delivered_at
		FROM webhook_deliveries d JOIN notices n ON n.id = d.notice_id WHERE (? = 0 OR d.webhook_id = ?) ORDER BY d.id DESC LIMIT ?`, webhookID, webhookID, limit)
}

// enqueue queues a notice for every active endpoint of its unit or of
// every unit, in the transaction that stores the notice.
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, noticeID, unitID int64, payload []byte) error {
	_, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, notice_id, payload, next_at, created_at)
		SELECT id, ?, ?, ?, ? FROM webhooks WHERE active = TRUE AND (unit_id IS NULL OR unit_id = ?)`,
		noticeID, string(payload), store.Ms(s.now()), store.Ms(s.now()), unitID)
	return err
}

// Sign returns the signature header's value for a body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// DeliverDue attempts every delivery that is due now, one after another,
// and returns how many it attempted. Replicas share the work through a
// lease on each row.
func (s *Service) DeliverDue(ctx context.Context, client *http.Client) (int, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	n := 0
	for ctx.Err() == nil {
		var d struct {
			id, attempts        int64
			url, secret, format string
			payload             string
			webhookID           int64
		}
		now := s.now()
		ok, err := s.DB.Claim(ctx, "webhook_deliveries", now.Add(time.Minute), func(r store.Scanner) (int64, error) {
			err := r.Scan(&d.id, &d.attempts, &d.url, &d.secret, &d.format, &d.payload, &d.webhookID)
			return d.id, err
		}, `SELECT d.id, d.attempts, w.url, w.secret, w.format, d.payload, w.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.status = 'pending' AND d.next_at <= ? AND d.lease_until < ? AND w.active = TRUE ORDER BY d.next_at, d.id LIMIT 1`,
			store.Ms(now), store.Ms(now))
		if !ok {
			return n, err
		}
		n++
		status, sendErr := s.post(ctx, client, d.url, d.secret, d.format, d.id, []byte(d.payload))
		if sendErr == nil && (status < 200 || status >= 300) {
			sendErr = fmt.Errorf("HTTP %d", status)
		}
		set := []store.Col{{Name: "last_status", Value: status}}
		if sendErr == nil {
			set = append(set, store.Col{Name: "delivered_at", Value: store.Ms(s.now())})
		}
		if err := s.DB.Settle(ctx, "webhook_deliveries", d.id, d.attempts+1, sendErr, "delivered", s.now(), Backoff, set...); err != nil {
			return n, err
		}
	}
	return n, ctx.Err()
}

// post sends one request in the endpoint's format; the status (0
// without an answer).
func (s *Service) post(ctx context.Context, client *http.Client, target, secret, format string, id int64, body []byte) (int, error) {
	if format != FormatJSON && format != "" {
		return s.postRobot(ctx, client, target, secret, format, body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "chuangwen-webhook/1")
	req.Header.Set("X-Chuangwen-Event", "notice")
	req.Header.Set("X-Chuangwen-Delivery", strconv.FormatInt(id, 10))
	req.Header.Set("X-Chuangwen-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Chuangwen-Signature", Sign(secret, ts, body))
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	return res.StatusCode, nil
}

// postRobot posts a notice (its stored JSON) to a group robot as the
// robot's markdown message; a 200 whose errcode is not 0 is a failure.
func (s *Service) postRobot(ctx context.Context, client *http.Client, target, secret, format string, payload []byte) (int, error) {
	var d NoticeDoc
	if err := json.Unmarshal(payload, &d); err != nil {
		return 0, fmt.Errorf("stored notice: %w", err)
	}
	link := ""
	if s.ConsoleURL != "" && d.No != "" {
		link = strings.TrimSuffix(s.ConsoleURL, "/") + "/notices/" + url.PathEscape(d.No)
	}
	body, err := robotBody(format, d, s.text, link)
	if err != nil {
		return 0, err
	}
	if format == FormatDingTalk && secret != "" {
		if target, err = dingTalkURL(target, secret, s.now().UnixMilli()); err != nil {
			return 0, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "chuangwen-webhook/1")
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	return res.StatusCode, robotAnswer(answer)
}

// text is a message of the catalogue the service was given (the key
// itself without one).
func (s *Service) text(key string, args ...string) string {
	if s.Text == nil {
		return key
	}
	return s.Text(key, args...)
}

// RunDeliveries delivers due webhooks every interval until ctx ends.
func (s *Service) RunDeliveries(ctx context.Context, interval time.Duration, logf func(format string, args ...any)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.DeliverDue(ctx, nil); err != nil && ctx.Err() == nil {
			logf("webhook deliveries: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
