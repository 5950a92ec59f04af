package open311

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// messagesJSON holds the handler's own messages; the application plugs its
// catalogue in through Options.Messages, and these are the same texts so the
// package also stands alone (and in tests).
//
//go:embed messages.json
var messagesJSON []byte

// builtin is parsed once; a malformed file fails every test at once.
var builtin = func() map[string]map[string]string {
	var m map[string]map[string]string
	if err := json.Unmarshal(messagesJSON, &m); err != nil {
		panic("open311: messages.json: " + err.Error())
	}
	return m
}()

// defaultMessages translates key with name/value args from the built-in
// texts, falling back to Simplified Chinese, then to the key itself.
func defaultMessages(lang, key string, args ...string) string {
	m := builtin[lang]
	if m == nil {
		m = builtin["zh-CN"]
	}
	msg, ok := m[key]
	if !ok {
		return key
	}
	if len(args) < 2 {
		return msg
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+args[i]+"}", args[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// defaultLanguage picks the first language tag we speak, Chinese by default.
func defaultLanguage(pref string) string {
	for part := range strings.SplitSeq(pref, ",") {
		tag, _, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "zh-CN"
}
