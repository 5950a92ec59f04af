package web

import (
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
)

// pointsText is a project's or content's points as the file gave them,
// else the sum of its leaves.
func pointsText(given, sum *big.Rat) string {
	if given == nil {
		given = sum
	}
	s, _ := assess.FormatDecimal(given)
	return s
}

func projectSum(p assess.Project) *big.Rat {
	sum := new(big.Rat)
	for _, c := range p.Contents {
		sum.Add(sum, contentSum(c))
	}
	return sum
}

func contentSum(c assess.Content) *big.Rat {
	sum := new(big.Rat)
	for _, st := range c.Standards {
		sum.Add(sum, st.Points)
	}
	return sum
}

func sumLost(rows []assess.EntryRow) *big.Rat {
	sum := new(big.Rat)
	for _, e := range rows {
		sum.Add(sum, e.Lost.Rat)
	}
	return sum
}

func sortStrings(xs []string) { sort.Strings(xs) }

func urlPathEscape(s string) string { return url.PathEscape(s) }

// printed is a figure as the documents print it ("" for nil).
func printed(r *big.Rat, places int) string {
	if r == nil {
		return ""
	}
	return assess.RoundString(r, places)
}

// exportRound writes one of a round's tables as XLSX or CSV (by the
// name's extension): results (the scores of every standard for the city
// and each district), ledger (every entry), rankings (districts, streets
// and units). The ledger follows the same filters and scope rules as its
// page.
func (s *Server) exportRound(w http.ResponseWriter, r *http.Request) {
	a, code, file := actorOf(r), r.PathValue("code"), r.PathValue("table")
	table, ext, _ := strings.Cut(file, ".")
	if ext != "xlsx" && ext != "csv" {
		s.fail(w, r, apperr.New(apperr.NotFound, "not_found"))
		return
	}
	lang := s.lang(r)
	t := func(key string) string { return s.Msg.T(lang, key) }
	names, err := s.assessNames(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows [][]string
	var numeric []int
	switch table {
	case "results":
		v, err := s.Assess.Open(r.Context(), a, code)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		scopes := []string{r.URL.Query().Get("region")}
		if scopes[0] == "" {
			if sc, err := v.Scores(""); err == nil {
				for _, d := range sc.Districts {
					scopes = append(scopes, d.Scope.Code)
				}
			}
		}
		rows = append(rows, []string{t("assess.col_scope"), t("assess.col_scope_name"), t("assess.col_code"), t("assess.col_level"), t("assess.col_score"), t("assess.col_max"), t("assess.col_rate"), t("assess.col_assessed")})
		numeric = []int{4, 5, 6}
		for _, code := range scopes {
			sc, err := v.Scores(code)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			x := sc.Scores
			scope := x.Scope.Code
			name := names.Region(scope)
			rows = append(rows, []string{scope, name, "", t("assess.level_total"), printed(x.Score, 2), printed(x.Max, 2), printed(x.Rate, 4), ""})
			for _, p := range x.Projects {
				rows = append(rows, []string{scope, name, p.Code, t("assess.level_project"), printed(p.Score, 2), printed(p.Max, 2), printed(p.Rate, 4), ""})
				for _, c := range p.Contents {
					rows = append(rows, []string{scope, name, c.Code, t("assess.level_content"), printed(c.Score, 2), printed(c.Max, 2), printed(c.Rate, 4), ""})
					for _, l := range c.Standards {
						rows = append(rows, []string{scope, name, l.Code, t("assess.level_standard"), printed(l.Score, 2), printed(l.Max, 2), "", strconv.FormatBool(l.Assessed)})
					}
				}
			}
		}
	case "ledger":
		entries, err := s.Assess.Entries(r.Context(), a, code, entryFilter(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rows = append(rows, []string{t("assess.col_standard"), t("assess.col_standard_name"), t("assess.col_unit"), t("assess.col_unit_name"), t("assess.col_via"), t("assess.col_lost"),
			t("assess.col_site"), t("assess.col_site_name"), t("assess.col_result"), t("assess.col_problems"), t("assess.col_note"), t("assess.col_case")})
		numeric = []int{5, 9}
		for _, e := range entries {
			rows = append(rows, []string{e.Standard, e.StandardName, e.Unit, names.Unit(e.Unit), t("assess.via_" + string(e.Via)), printed(e.Lost.Rat, 2),
				e.Site, e.SiteName, e.Result, strconv.Itoa(e.Problems), e.Note, e.CaseNo})
		}
	case "rankings":
		rk, err := s.Assess.Rankings(r.Context(), a, code)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rows = append(rows, []string{t("assess.col_kind"), t("assess.col_rank"), t("assess.col_code"), t("assess.col_name"), t("assess.col_score"), t("assess.col_max"), t("assess.col_rate"),
			t("assess.col_lost"), t("assess.col_sites"), t("assess.col_card"), t("assess.col_prev_rank"), t("assess.col_rate_change"), t("assess.col_lost_change")})
		numeric = []int{1, 4, 5, 6, 7, 8, 10, 11, 12}
		add := func(kind string, xs []assess.Standing, name func(string) string) {
			for _, x := range xs {
				prev := ""
				if x.PrevRank > 0 {
					prev = strconv.Itoa(x.PrevRank)
				}
				card := ""
				if x.Card != "" {
					card = t("assess.card_" + string(x.Card))
				}
				rows = append(rows, []string{t("assess.kind_" + kind), strconv.Itoa(x.Rank), x.Code, name(x.Code), printed(x.Score, 2), printed(x.Max, 2), printed(x.Rate, 4),
					printed(x.Lost, 2), strconv.Itoa(x.Sites), card, prev, printed(x.RateChange, 4), printed(x.LostChange, 2)})
			}
		}
		add("district", rk.Districts, names.Region)
		add("street", rk.Streets, names.Region)
		add("unit", rk.Units, names.Unit)
	default:
		s.fail(w, r, apperr.New(apperr.NotFound, "not_found"))
		return
	}
	s.sendTable(w, r, code+"-"+file, code, rows, numeric...)
}
