package workcal

// China2026 returns the State Council's public-holiday arrangement for 2026
// (国务院办公厅关于2026年部分节假日安排的通知) as overrides: weekday holidays and
// weekend make-up working days (调休) alike, each named after its festival.
//
// This is seed data only. The arrangement is announced anew every year, and
// local governments occasionally add their own days off; an office must check
// each year's official notice and load it itself rather than rely on this
// list. A fresh slice is returned on every call, so callers may modify it.
func China2026() []Override {
	type group struct {
		name    string
		off     []Date
		working []Date
	}
	groups := []group{
		{"元旦", []Date{"2026-01-01", "2026-01-02", "2026-01-03"}, []Date{"2026-01-04"}},
		{"春节", []Date{
			"2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
			"2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
		}, []Date{"2026-02-14", "2026-02-28"}},
		{"清明节", []Date{"2026-04-04", "2026-04-05", "2026-04-06"}, nil},
		{"劳动节", []Date{"2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"}, []Date{"2026-05-09"}},
		{"端午节", []Date{"2026-06-19", "2026-06-20", "2026-06-21"}, nil},
		{"中秋节", []Date{"2026-09-25", "2026-09-26", "2026-09-27"}, nil},
		{"国庆节", []Date{
			"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
			"2026-10-05", "2026-10-06", "2026-10-07",
		}, []Date{"2026-09-20", "2026-10-10"}},
	}
	var out []Override
	for _, g := range groups {
		for _, d := range g.off {
			out = append(out, Override{Date: d, Working: false, Name: g.name})
		}
		for _, d := range g.working {
			out = append(out, Override{Date: d, Working: true, Name: g.name})
		}
	}
	return out
}
