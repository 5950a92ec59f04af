package assess_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/bench"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// The benchmarks' city: 4 districts × 5 streets × 4 communities, 20
// units, and the benchmark edition, sites and rounds of internal/bench
// (2,000 sites, 100,000 observations a round).
const (
	benchSites     = bench.Sites
	benchDistricts = 4
)

type benchCity struct {
	db     *store.DB
	svc    *assess.Service
	obsCSV []byte
	resCSV []byte
}

// newBenchCity builds the city, the edition and the sites in db, and the
// observation and result files of a round.
func newBenchCity(b *testing.B, db *store.DB) *benchCity {
	b.Helper()
	ctx := context.Background()
	orgs := &org.Store{DB: db}
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	city, err := orgs.CreateRegion(ctx, org.System, org.Region{Code: "5301", Name: "基准市", Level: "city"})
	must(err)
	var communities []string
	for d := 1; d <= benchDistricts; d++ {
		dist, err := orgs.CreateRegion(ctx, org.System, org.Region{Code: fmt.Sprintf("5301%02d", d), Name: fmt.Sprint("区", d), Level: "district", ParentID: city.ID})
		must(err)
		for s := 1; s <= 5; s++ {
			st, err := orgs.CreateRegion(ctx, org.System, org.Region{Code: fmt.Sprintf("%s%03d", dist.Code, s), Name: fmt.Sprint("街道", d, s), Level: "street", ParentID: dist.ID})
			must(err)
			for c := 1; c <= 4; c++ {
				cm, err := orgs.CreateRegion(ctx, org.System, org.Region{Code: fmt.Sprintf("%s%03d", st.Code, c), Name: fmt.Sprint("社区", d, s, c), Level: "community", ParentID: st.ID})
				must(err)
				communities = append(communities, cm.Code)
			}
		}
	}
	for u := 1; u <= 20; u++ {
		_, err := orgs.CreateUnit(ctx, org.System, org.Unit{Code: fmt.Sprintf("U%02d", u), Name: fmt.Sprint("单位", u), Kind: "department"})
		must(err)
	}
	svc := &assess.Service{DB: db, Location: time.UTC}
	var units []string
	for u := 1; u <= 20; u++ {
		units = append(units, fmt.Sprintf("U%02d", u))
	}
	ed := bench.Edition(units) // standard n led by U(n mod 20 + 1)
	var tree bytes.Buffer
	must(assess.Write(&tree, ed))
	_, problems, err := svc.ImportTree(ctx, org.System, &tree, assess.FormatYAML)
	if err != nil {
		b.Fatal(err, problems)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	_, problems, err = svc.ImportSites(ctx, org.System, strings.NewReader(bench.SitesCSV(rng, communities, units)), assess.FormatCSV)
	if err != nil {
		b.Fatal(err, problems)
	}
	obs := bench.ObservationsCSV(rng, ed)
	var res strings.Builder
	res.WriteString("region,standard,value\n")
	for d := 1; d <= benchDistricts; d++ {
		fmt.Fprintf(&res, "5301%02d,6.1.1,0.%d\n5301%02d,6.1.3,1.%d\n", d, 80+d, d, d)
	}
	res.WriteString(",6.1.2,0.9\n")
	return &benchCity{db: db, svc: svc, obsCSV: []byte(obs), resCSV: []byte(res.String())}
}

func (bc *benchCity) newRound(b *testing.B) string {
	b.Helper()
	seed := uint64(7)
	rd, err := bc.svc.CreateRound(context.Background(), org.System, assess.NewRound{Edition: "bench", Name: "基准轮次", Seed: &seed, Date: "2026-11-16"})
	if err != nil {
		b.Fatal(err)
	}
	if rd.Sites != benchSites {
		b.Fatalf("round of %d sites", rd.Sites)
	}
	return rd.Code
}

func engines(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
}

// BenchmarkImportObservations imports 100,000 observations from CSV into
// a fresh round (all or nothing, one transaction).
func BenchmarkImportObservations(b *testing.B) {
	engines(b, func(b *testing.B, db *store.DB) {
		bc := newBenchCity(b, db)
		ctx := context.Background()
		rows := 0
		var elapsed, cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			round := bc.newRound(b)
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			rep, problems, err := bc.svc.ImportObservations(ctx, org.System, round, bytes.NewReader(bc.obsCSV))
			elapsed, cpu = elapsed+time.Since(start), cpu+cpuTime()-cpu0
			if err != nil {
				b.Fatal(err, problems)
			}
			rows += rep.Created
		}
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}

// observedRound is a round of the bench city with its 100,000
// observations and its values.
func (bc *benchCity) observedRound(b *testing.B) string {
	b.Helper()
	ctx := context.Background()
	round := bc.newRound(b)
	if _, problems, err := bc.svc.ImportObservations(ctx, org.System, round, bytes.NewReader(bc.obsCSV)); err != nil {
		b.Fatal(err, problems)
	}
	if _, problems, err := bc.svc.ImportResults(ctx, org.System, round, bytes.NewReader(bc.resCSV)); err != nil {
		b.Fatal(err, problems)
	}
	return round
}

// BenchmarkScoresAndLedger computes the city's scores (with its
// districts) and ledger of a round of 2,000 sites and 100,000
// observations as the two commands do, each loading the round from the
// database.
func BenchmarkScoresAndLedger(b *testing.B) {
	engines(b, func(b *testing.B, db *store.DB) {
		bc := newBenchCity(b, db)
		ctx := context.Background()
		round := bc.observedRound(b)
		cpu0 := cpuTime()
		for b.Loop() {
			sc, err := bc.svc.Scores(ctx, org.System, round, "")
			if err != nil {
				b.Fatal(err)
			}
			l, err := bc.svc.Ledger(ctx, org.System, round, "")
			if err != nil {
				b.Fatal(err)
			}
			if sc.Scores.Lost().Cmp(l.Lost) != 0 || len(sc.Districts) != benchDistricts {
				b.Fatalf("lost %s ≠ %s", sc.Scores.Lost().RatString(), l.Lost.RatString())
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}

// BenchmarkEveryScope loads the same round once and computes the scores
// and the ledger of every scope: the city, 4 districts, 20 streets and
// 80 communities.
func BenchmarkEveryScope(b *testing.B) {
	engines(b, func(b *testing.B, db *store.DB) {
		bc := newBenchCity(b, db)
		ctx := context.Background()
		round := bc.observedRound(b)
		cpu0 := cpuTime()
		for b.Loop() {
			v, err := bc.svc.Open(ctx, org.System, round)
			if err != nil {
				b.Fatal(err)
			}
			scopes := append([]string{""}, v.Scopes()...)
			if len(scopes) != 1+benchDistricts*(1+5+20) {
				b.Fatalf("%d scopes", len(scopes))
			}
			for _, sc := range scopes {
				s, err := v.Scores(sc)
				if err != nil {
					b.Fatal(err)
				}
				l, err := v.Ledger(sc)
				if err != nil {
					b.Fatal(err)
				}
				if s.Scores.Lost().Cmp(l.Lost) != 0 {
					b.Fatalf("%s: lost %s ≠ %s", sc, s.Scores.Lost().RatString(), l.Lost.RatString())
				}
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}

// BenchmarkYearOfRankings ranks a year of closed rounds (12, one a month,
// each of 2,000 sites and 100,000 observations): the trend of every round
// against the one before it, the latest round's rankings with its changes,
// and the escalation ladder's proposals, as the round page and the
// bulletins ask for them. Closed rounds are read from the snapshots taken
// when they closed.
func BenchmarkYearOfRankings(b *testing.B) {
	engines(b, func(b *testing.B, db *store.DB) {
		bc := newBenchCity(b, db)
		ctx := context.Background()
		var last string
		for m := 1; m <= 12; m++ {
			seed := uint64(m)
			rd, err := bc.svc.CreateRound(ctx, org.System, assess.NewRound{Edition: "bench", Name: fmt.Sprint(m, "月"), Seed: &seed, Date: fmt.Sprintf("2026-%02d-15", m)})
			if err != nil {
				b.Fatal(err)
			}
			if _, problems, err := bc.svc.ImportObservations(ctx, org.System, rd.Code, bytes.NewReader(bc.obsCSV)); err != nil {
				b.Fatal(err, problems)
			}
			if _, problems, err := bc.svc.ImportResults(ctx, org.System, rd.Code, bytes.NewReader(bc.resCSV)); err != nil {
				b.Fatal(err, problems)
			}
			if _, err := bc.svc.CloseRound(ctx, org.System, rd.Code); err != nil {
				b.Fatal(err)
			}
			last = rd.Code
		}
		cpu0 := cpuTime()
		first := time.Duration(0)
		for b.Loop() {
			start := time.Now()
			trend, err := bc.svc.Trend(ctx, org.System, "bench")
			if err != nil {
				b.Fatal(err)
			}
			rk, err := bc.svc.Rankings(ctx, org.System, last)
			if err != nil {
				b.Fatal(err)
			}
			props, err := bc.svc.Proposals(ctx, org.System, last)
			if err != nil {
				b.Fatal(err)
			}
			if len(trend) != 12 || rk.Previous == nil || len(rk.Districts) != benchDistricts || len(rk.Streets) != benchDistricts*5 || len(rk.Units) != 20 || props == nil {
				b.Fatalf("trend %d, previous %v, %d districts, %d streets, %d units", len(trend), rk.Previous, len(rk.Districts), len(rk.Streets), len(rk.Units))
			}
			if first == 0 {
				first = time.Since(start)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		b.ReportMetric(float64(first.Milliseconds()), "first-ms")
	})
}
