package report

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Group robots: besides the signed JSON of webhooks.go, a webhook may post
// a notice to a chat group's robot, as the robot's own message format:
//
//   - WeCom (企业微信群机器人): POST the robot's URL (…/cgi-bin/webhook/send?key=…)
//     with {"msgtype":"markdown","markdown":{"content":…}}.
//   - DingTalk (钉钉自定义机器人): POST the robot's URL (…/robot/send?access_token=…)
//     with {"msgtype":"markdown","markdown":{"title":…,"text":…}}; when the robot
//     is set to sign (加签), the URL gains timestamp (unix ms) and
//     sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
//
// Both answer HTTP 200 with {"errcode":0,"errmsg":"ok"}; any other errcode is
// a failed delivery, retried like any other.

// Formats of a webhook's requests.
const (
	FormatJSON     = "json"     // the notice as signed JSON
	FormatWeCom    = "wecom"    // 企业微信群机器人
	FormatDingTalk = "dingtalk" // 钉钉自定义机器人
)

// Formats lists the formats.
var Formats = []string{FormatJSON, FormatWeCom, FormatDingTalk}

// robotText is a notice as a robot's markdown: its number, unit, week,
// what it holds section by section, and where to read and sign it.
func robotText(d NoticeDoc, t func(key string, args ...string) string, link string) (title, text string) {
	title = t("webhook.msg.title", "no", d.No)
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n", title)
	fmt.Fprintf(&b, "**%s**\n\n", d.UnitName)
	if d.Kind == "instant" {
		b.WriteString(t("webhook.msg.instant") + "\n\n")
		if d.Case != nil {
			fmt.Fprintf(&b, "> %s %s · %s\n\n", d.Case.No, d.Case.Category, d.Case.Region)
		}
		if d.Note != "" {
			fmt.Fprintf(&b, "> %s\n\n", strings.ReplaceAll(d.Note, "\n", " "))
		}
	} else {
		b.WriteString(t("webhook.msg.week", "week", d.Week) + "\n\n")
	}
	for _, sec := range []struct {
		key string
		n   int
	}{{"report.section_overdue", len(d.Overdue)}, {"report.section_due_soon", len(d.DueSoon)}, {"report.section_listed", len(d.Listed)},
		{"report.section_reworks", len(d.Reworks)}, {"report.section_extensions", len(d.ExtensionsPending)}, {"report.section_relapses", len(d.Relapses)},
		{"report.section_failed_rechecks", len(d.FailedRechecks)}, {"report.section_overdue_milestones", len(d.OverdueMilestones)}} {
		if sec.n > 0 {
			fmt.Fprintf(&b, "- %s：%d\n", t(sec.key), sec.n)
		}
	}
	if len(d.Unacknowledged) > 0 {
		fmt.Fprintf(&b, "\n%s %s\n", t("notice.ui.unsigned_before"), strings.Join(d.Unacknowledged, "、"))
	}
	b.WriteString("\n" + t("webhook.msg.sign") + "\n")
	if link != "" {
		fmt.Fprintf(&b, "\n[%s](%s)\n", t("webhook.msg.open"), link)
	}
	fmt.Fprintf(&b, "\n%s %s", d.Issuer, d.IssuedAt)
	return title, b.String()
}

// robotBody is the request body of a robot format.
func robotBody(format string, d NoticeDoc, t func(key string, args ...string) string, link string) ([]byte, error) {
	title, text := robotText(d, t, link)
	switch format {
	case FormatWeCom:
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": text}})
	case FormatDingTalk:
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": title, "text": text}})
	}
	return nil, fmt.Errorf("report: no robot format %q", format)
}

// DingTalkSign is the sign parameter of a DingTalk robot set to sign, for
// a request at ts (unix ms).
func DingTalkSign(secret string, ts int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// dingTalkURL adds the timestamp and signature to a DingTalk robot's URL.
func dingTalkURL(raw, secret string, ts int64) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("timestamp", strconv.FormatInt(ts, 10))
	q.Set("sign", DingTalkSign(secret, ts))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// robotAnswer checks a robot's answer: errcode 0, else the robot's words.
func robotAnswer(body []byte) error {
	var a struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &a); err != nil || a.ErrCode == nil {
		return fmt.Errorf("not a robot's answer")
	}
	if *a.ErrCode != 0 {
		return fmt.Errorf("errcode %d: %s", *a.ErrCode, a.ErrMsg)
	}
	return nil
}
