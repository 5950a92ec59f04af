package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"chuangwen/internal/geo"
	"chuangwen/internal/i18n"
	"chuangwen/internal/intake"
	"chuangwen/internal/org"
	"chuangwen/internal/workflow"
)

// TestEveryWordShown renders, in both languages, every word a page makes
// from a value (trail actions including the deadline watch's and the
// residents', states, sources, roles, queues, warnings) and fails on a
// key that would show bare.
func TestEveryWordShown(t *testing.T) {
	msg, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range append(workflow.Actions, workflow.Warn, workflow.Overdue, workflow.Report) {
		keys = append(keys, "action."+string(a))
	}
	for _, a := range append(intake.TrailActions, workflow.ActionClientUpdate) {
		keys = append(keys, "action."+a)
	}
	for _, s := range workflow.States {
		keys = append(keys, "state."+string(s))
	}
	for _, f := range []string{geo.LocCell, geo.LocNearest, geo.LocNone, geo.LocOutside, geo.LocManual, geo.LocAddress} {
		keys = append(keys, "routing.flag_"+f)
	}
	for _, s := range workflow.Sources {
		keys = append(keys, "source."+s)
	}
	for _, r := range append(org.Roles, org.RoleClient, org.RoleSystem) {
		keys = append(keys, "role."+string(r))
		for _, q := range workflow.QueuesFor(r) {
			keys = append(keys, "queue."+string(q))
		}
	}
	for w := 1; w <= 2; w++ {
		keys = append(keys, fmt.Sprintf("warning.%d", w))
	}
	for _, lang := range []string{"zh-CN", "en"} {
		for _, k := range keys {
			if got := msg.T(lang, k); got == k || got == "" {
				t.Errorf("%s: %q shows as %q", lang, k, got)
			}
		}
	}
}

// TestResidentsPlainWords: the residents' pages speak plain words: no
// datum names, file formats or "API" in the texts they show.
func TestResidentsPlainWords(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		b, err := os.ReadFile("../i18n/messages." + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			if !strings.HasPrefix(k, "public.") && !strings.HasPrefix(k, "track.") {
				continue
			}
			for _, jargon := range []string{"WGS", "GCJ", "BD-09", "GeoJSON", "API", "EXIF", "Exif", "datum", "坐标系"} {
				if strings.Contains(v, jargon) {
					t.Errorf("%s %s: %q shows residents %q", lang, k, v, jargon)
				}
			}
		}
	}
}
