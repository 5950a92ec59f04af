package bench

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// The assessment at benchmark size: an edition of 60 field standards
// over 4 site types (every one applying to every type) with 3 survey and
// document standards and 2 negative items, 2,000 sites, and rounds that
// observe every site on 50 standards: 100,000 observations a round (80 %
// pass, 15 % fail with 0–3 problems, 5 % not applicable).

// SiteTypes are the benchmark edition's site types.
var SiteTypes = []string{"主次干道", "背街小巷", "农贸市场", "公共厕所"}

const (
	// Sites is how many sites the benchmark registry holds.
	Sites = 2000
	// PerSite is how many standards a round observes at each site.
	PerSite = 50
)

// Edition is the benchmark edition, code "bench"; lead units are drawn
// in turn from units (their codes).
func Edition(units []string) assess.Edition {
	ed := assess.Edition{Code: "bench", Name: "基准测试体系(示例)", SiteTypes: SiteTypes}
	unit := func(n int) string { return units[n%len(units)] }
	n := 0
	for p := 1; p <= 5; p++ {
		pr := assess.Project{Code: fmt.Sprint(p), Name: fmt.Sprint("项目", p)}
		for c := 1; c <= 4; c++ {
			ct := assess.Content{Code: fmt.Sprintf("%d.%d", p, c), Name: fmt.Sprint("内容", p, c)}
			for s := 1; s <= 3; s++ {
				st := assess.Standard{Code: fmt.Sprintf("%d.%d.%d", p, c, s), Name: "标准", Points: big.NewRat(int64(1+n%3), 1),
					Method: assess.MethodField, Rule: assess.RulePassRate, SiteTypes: SiteTypes}
				if n%2 == 1 {
					st.Rule, st.PerProblem = assess.RuleDeduct, big.NewRat(1, 2)
				}
				if n%5 != 0 {
					st.LeadUnit = unit(n)
				}
				ct.Standards = append(ct.Standards, st)
				n++
			}
			pr.Contents = append(pr.Contents, ct)
		}
		ed.Projects = append(ed.Projects, pr)
	}
	ed.Projects = append(ed.Projects, assess.Project{Code: "6", Name: "满意度与材料", Contents: []assess.Content{{Code: "6.1", Name: "问卷与材料", Standards: []assess.Standard{
		{Code: "6.1.1", Name: "满意度", Points: big.NewRat(4, 1), Method: assess.MethodSurvey, Rule: assess.RuleSurvey, LeadUnit: unit(0)},
		{Code: "6.1.2", Name: "知晓率", Points: big.NewRat(4, 1), Method: assess.MethodSurvey, Rule: assess.RuleSurvey},
		{Code: "6.1.3", Name: "台账", Points: big.NewRat(2, 1), Method: assess.MethodDocument, Rule: assess.RuleGraded, LeadUnit: unit(1)},
	}}}})
	ed.Negative = []assess.NegativeItem{{Code: "N1", Name: "重大事故"}, {Code: "N2", Name: "恶性事件", SiteTypes: []string{"农贸市场"}}}
	return ed
}

// SitesCSV is the registry's import file: Sites sites P00000… spread
// over communities, three in four with a responsible unit.
func SitesCSV(rng *rand.Rand, communities, units []string) string {
	var b strings.Builder
	b.WriteString("code,name,type,region,unit\n")
	for i := 0; i < Sites; i++ {
		unit := ""
		if i%4 != 0 {
			unit = units[rng.IntN(len(units))]
		}
		fmt.Fprintf(&b, "P%05d,点位%d,%s,%s,%s\n", i, i, SiteTypes[i%4], communities[rng.IntN(len(communities))], unit)
	}
	return b.String()
}

// ObservationsCSV is a round's observation file: every site on the first
// PerSite standards of ed.
func ObservationsCSV(rng *rand.Rand, ed assess.Edition) string {
	var b strings.Builder
	b.WriteString("site,standard,result,problems,note\n")
	leaves := ed.Standards()
	for i := 0; i < Sites; i++ {
		for _, s := range leaves[:PerSite] {
			switch r := rng.IntN(100); {
			case r < 80:
				fmt.Fprintf(&b, "P%05d,%s,pass,,\n", i, s.Code)
			case r < 95:
				fmt.Fprintf(&b, "P%05d,%s,fail,%d,发现问题\n", i, s.Code, rng.IntN(4))
			default:
				fmt.Fprintf(&b, "P%05d,%s,na,,\n", i, s.Code)
			}
		}
	}
	return b.String()
}

// ResultsCSV is a round's survey and document values: per district and
// one city-wide.
func ResultsCSV(rng *rand.Rand, districts []string) string {
	var b strings.Builder
	b.WriteString("region,standard,value\n")
	for _, d := range districts {
		fmt.Fprintf(&b, "%s,6.1.1,0.%d\n%s,6.1.3,1.%d\n", d, 70+rng.IntN(25), d, rng.IntN(3))
	}
	b.WriteString(",6.1.2,0.9\n")
	return b.String()
}

// Rounds gives the city a year of mock inspections when it has no
// benchmark edition yet: the edition, the registry over the city's
// communities, and one closed round on the 1st of each of the twelve
// months up to now's, each of 100,000 observations.
func Rounds(ctx context.Context, db *store.DB, svc *assess.Service, now time.Time, loc *time.Location, log func(string, ...any)) error {
	q := db.Reader()
	var have int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM assess_editions WHERE code = 'bench'`).Scan(&have); err != nil {
		return err
	}
	if have > 0 {
		return nil
	}
	units, err := texts(ctx, q, `SELECT code FROM units WHERE active = TRUE ORDER BY code`)
	if err != nil {
		return err
	}
	communities, err := texts(ctx, q, `SELECT code FROM regions WHERE level = 'community' ORDER BY code`)
	if err != nil {
		return err
	}
	districts, err := texts(ctx, q, `SELECT code FROM regions WHERE level = 'district' ORDER BY code`)
	if err != nil {
		return err
	}
	if len(units) == 0 || len(communities) == 0 {
		return fmt.Errorf("bench rounds: the city needs units and communities first")
	}
	ed := Edition(units)
	var tree strings.Builder
	if err := assess.Write(&tree, ed); err != nil {
		return err
	}
	info, problems, err := svc.ImportTree(ctx, org.System, strings.NewReader(tree.String()), assess.FormatYAML)
	if err != nil {
		return fmt.Errorf("bench rounds: edition: %v %w", problems, err)
	}
	if _, err := svc.Publish(ctx, org.System, info.Code, info.Version); err != nil {
		return fmt.Errorf("bench rounds: publish the edition: %w", err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	if _, problems, err := svc.ImportSites(ctx, org.System, strings.NewReader(SitesCSV(rng, communities, units)), assess.FormatCSV); err != nil {
		return fmt.Errorf("bench rounds: sites: %v %w", problems, err)
	}
	start := time.Now()
	first := time.Date(now.In(loc).Year(), now.In(loc).Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -11, 0)
	for m := 0; m < 12; m++ {
		day := first.AddDate(0, m, 0).Format(time.DateOnly)
		seed := uint64(m + 1)
		rd, err := svc.CreateRound(ctx, org.System, assess.NewRound{Edition: "bench", Name: day + " 基准模拟测评", Seed: &seed, Date: day})
		if err != nil {
			return fmt.Errorf("bench rounds: %s: %w", day, err)
		}
		if _, problems, err := svc.ImportObservations(ctx, org.System, rd.Code, strings.NewReader(ObservationsCSV(rng, ed))); err != nil {
			return fmt.Errorf("bench rounds: %s: observations: %v %w", day, problems, err)
		}
		if _, problems, err := svc.ImportResults(ctx, org.System, rd.Code, strings.NewReader(ResultsCSV(rng, districts))); err != nil {
			return fmt.Errorf("bench rounds: %s: values: %v %w", day, problems, err)
		}
		if _, err := svc.CloseRound(ctx, org.System, rd.Code); err != nil {
			return fmt.Errorf("bench rounds: %s: close: %w", day, err)
		}
		if log != nil {
			log("round %s (%s) closed, %s", rd.Code, day, time.Since(start).Round(time.Second))
		}
	}
	return nil
}

// texts runs a query that returns one text column.
func texts(ctx context.Context, q store.Queryer, query string) ([]string, error) {
	return store.Collect(ctx, q, func(r store.Scanner) (v string, err error) { return v, r.Scan(&v) }, query)
}
