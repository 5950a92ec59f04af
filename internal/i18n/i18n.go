// Package i18n is the message catalogue. The console and every error
// message speak Simplified Chinese by default; English is the second
// language. Messages are JSON files, one per language, keyed by dotted
// names; {name} in a message is replaced by the argument of that name,
// itself translated when it is a key of the catalogue (state.closed).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

//go:embed messages.*.json
var files embed.FS

// Default is the language used when the user asks for none we have.
const Default = "zh-CN"

// Catalogue holds the messages of every language.
type Catalogue struct {
	langs map[string]map[string]string
}

// Load parses the embedded message files and checks that every language
// has the same keys as the default, so a missing translation fails at
// start-up (and in tests), not in front of a user.
func Load() (*Catalogue, error) {
	c := &Catalogue{langs: map[string]map[string]string{}}
	for _, lang := range []string{"zh-CN", "en"} {
		b, err := files.ReadFile("messages." + lang + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("messages.%s.json: %w", lang, err)
		}
		c.langs[lang] = m
	}
	base := c.langs[Default]
	for lang, m := range c.langs {
		var missing []string
		for k := range base {
			if _, ok := m[k]; !ok {
				missing = append(missing, k)
			}
		}
		for k := range m {
			if _, ok := base[k]; !ok {
				missing = append(missing, k+" (extra)")
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return nil, fmt.Errorf("messages.%s.json: keys differ from %s: %s", lang, Default, strings.Join(missing, ", "))
		}
	}
	return c, nil
}

// Has reports whether key exists.
func (c *Catalogue) Has(key string) bool {
	_, ok := c.langs[Default][key]
	return ok
}

// Pick chooses a language from an Accept-Language header or a cookie value.
func (c *Catalogue) Pick(pref string) string {
	for _, part := range strings.Split(pref, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		switch {
		case tag == "":
		case strings.HasPrefix(strings.ToLower(tag), "zh"):
			return "zh-CN"
		case strings.HasPrefix(strings.ToLower(tag), "en"):
			return "en"
		}
	}
	return Default
}

// T translates key into lang with name/value args.
func (c *Catalogue) T(lang, key string, args ...string) string {
	m := c.langs[lang]
	if m == nil {
		m = c.langs[Default]
	}
	msg, ok := m[key]
	if !ok {
		return key
	}
	if len(args) == 0 || !strings.Contains(msg, "{") {
		return msg
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		v := args[i+1]
		if t, ok := m[v]; ok {
			v = t
		}
		pairs = append(pairs, "{"+args[i]+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}
