package assess

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"chuangwen/internal/apperr"
)

func TestParsePlan(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "all",
		"all":                 "all",
		" all ":               "all",
		"主次干道:2,农贸市场:1":       "主次干道:2,农贸市场:1",
		" 主次干道 : 2 , 农贸市场:1 ": "主次干道:2,农贸市场:1",
		"主次干道：2，农贸市场：1":       "主次干道:2,农贸市场:1",
		"a:b:3":               "a:b:3", // the count follows the last colon
		"背街小巷:100000":         "背街小巷:100000",
	} {
		p, err := ParsePlan(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePlan(%q) = %q, %v; want %q", in, p.String(), err, want)
		}
	}
	for in, key := range map[string]string{
		"主次干道":          "assess.bad_plan",
		"主次干道:0":        "assess.bad_plan",
		"主次干道:-1":       "assess.bad_plan",
		"主次干道:x":        "assess.bad_plan",
		":2":            "assess.bad_plan",
		"主次干道:2,":       "assess.bad_plan",
		"主次干道:100001":   "assess.bad_plan",
		"主次干道:1,主次干道:2": "assess.dup_plan_type",
	} {
		_, err := ParsePlan(in)
		e, ok := apperr.As(err)
		if !ok || e.Key != key || e.Code != apperr.Invalid {
			t.Errorf("ParsePlan(%q) error %v, want %s", in, err, key)
		}
	}
}

// TestSplitMix64 checks the generator against the published reference
// outputs for state 0.
func TestSplitMix64(t *testing.T) {
	g := splitMix64{}
	for _, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec} {
		if got := g.next(); got != want {
			t.Fatalf("next = %#x, want %#x", got, want)
		}
	}
}

// sampleSites: two districts, three types, 3 to 9 sites per group, codes
// deliberately not in creation order.
func sampleSites() []Site {
	var sites []Site
	id := int64(0)
	for _, d := range []string{d2, d1} {
		for ti, typ := range []string{"主次干道", "农贸市场", "公共厕所"} {
			for i := range 3 + 3*ti {
				id++
				sites = append(sites, Site{ID: id, Code: fmt.Sprintf("%s-%s-%02d", d[4:], []string{"R", "M", "T"}[ti], (i*7)%17), Type: typ, District: d})
			}
		}
	}
	return sites
}

func codes(sites []Site) string {
	var out []string
	for _, s := range sites {
		out = append(out, s.Code)
	}
	return strings.Join(out, " ")
}

// TestSampleGolden freezes one draw: a change of algorithm would change
// past rounds' samples and must show up here.
func TestSampleGolden(t *testing.T) {
	plan, _ := ParsePlan("主次干道:2,农贸市场:1")
	got, err := Sample(sampleSites(), plan, 42)
	if err != nil {
		t.Fatal(err)
	}
	want := goldenSample
	if codes(got) != want {
		t.Errorf("sample = %s\nwant     %s", codes(got), want)
	}
}

const goldenSample = "02-M-00 02-R-00 02-R-07 03-M-01 03-R-00 03-R-07"

// TestSampleDeterministic: the input order never matters, the seed does.
func TestSampleDeterministic(t *testing.T) {
	sites := sampleSites()
	plan, _ := ParsePlan("主次干道:2,农贸市场:2,公共厕所:4")
	first, err := Sample(sites, plan, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(sites)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, _ := Sample(shuffled, plan, 7)
		if codes(again) != codes(first) {
			t.Fatalf("order changed the sample: %s vs %s", codes(again), codes(first))
		}
	}
	if len(first) != 2*(2+2+4) {
		t.Errorf("%d sites drawn: %s", len(first), codes(first))
	}
	differs := false
	for seed := uint64(8); seed < 20; seed++ {
		other, _ := Sample(sites, plan, seed)
		differs = differs || codes(other) != codes(first)
	}
	if !differs {
		t.Error("the seed changes nothing")
	}
	// The plan's order of types does not matter either.
	reordered, _ := ParsePlan("公共厕所:4,农贸市场:2,主次干道:2")
	again, _ := Sample(sites, reordered, 7)
	if codes(again) != codes(first) {
		t.Error("the plan's order changed the sample")
	}
}

// TestSampleMatchesSpec reimplements the documented algorithm from its
// description alone and compares over many seeds and plans.
func TestSampleMatchesSpec(t *testing.T) {
	sites := sampleSites()
	for seed := range uint64(300) {
		n := 1 + int(seed%5)
		plan := Plan{Quotas: []Quota{{"主次干道", n}, {"公共厕所", n + 2}}}
		got, err := Sample(sites, plan, seed*0x9E3779B97F4A7C15)
		if err != nil {
			t.Fatal(err)
		}
		want := referenceSample(sites, plan, seed*0x9E3779B97F4A7C15)
		if codes(got) != codes(want) {
			t.Fatalf("seed %d: %s, reference %s", seed, codes(got), codes(want))
		}
	}
}

// referenceSample follows Sample's doc comment step by step, written
// independently (its own FNV-1a and SplitMix64).
func referenceSample(sites []Site, plan Plan, seed uint64) []Site {
	sorted := slices.Clone(sites)
	slices.SortFunc(sorted, func(a, b Site) int { return strings.Compare(a.Code, b.Code) })
	var districts []string
	for _, s := range sorted {
		if !slices.Contains(districts, s.District) {
			districts = append(districts, s.District)
		}
	}
	slices.Sort(districts)
	picked := map[string]bool{}
	for _, d := range districts {
		for _, q := range plan.Quotas {
			var group []Site
			for _, s := range sorted {
				if s.District == d && s.Type == q.Type {
					group = append(group, s)
				}
			}
			if len(group) <= q.N {
				for _, s := range group {
					picked[s.Code] = true
				}
				continue
			}
			h := uint64(14695981039346656037)
			for _, b := range []byte(d + "\x00" + q.Type) {
				h ^= uint64(b)
				h *= 1099511628211
			}
			state := seed ^ h
			next := func() uint64 {
				state += 0x9E3779B97F4A7C15
				z := state
				z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
				z = (z ^ (z >> 27)) * 0x94D049BB133111EB
				return z ^ (z >> 31)
			}
			a := make([]int, len(group))
			for i := range a {
				a[i] = i
			}
			for i := 0; i < q.N; i++ {
				m := uint64(len(group) - i)
				tmin := (^uint64(0) - m + 1) % m
				x := next()
				for x < tmin {
					x = next()
				}
				j := i + int(x%m)
				a[i], a[j] = a[j], a[i]
			}
			for _, k := range a[:q.N] {
				picked[group[k].Code] = true
			}
		}
	}
	var out []Site
	for _, s := range sorted {
		if picked[s.Code] {
			out = append(out, s)
		}
	}
	return out
}

// TestSampleCoverage: over many seeds every eligible site is drawn, and
// about equally often.
func TestSampleCoverage(t *testing.T) {
	sites := sampleSites()
	plan, _ := ParsePlan("公共厕所:3,农贸市场:1")
	const seeds = 2000
	seen := map[string]int{}
	for seed := range uint64(seeds) {
		got, err := Sample(sites, plan, seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			seen[s.Code]++
		}
	}
	for _, s := range sites {
		n := seen[s.Code]
		switch s.Type {
		case "主次干道":
			if n != 0 {
				t.Errorf("%s (type not in the plan) drawn %d times", s.Code, n)
			}
		case "公共厕所": // 9 per district, 3 drawn: expect 2000/3 ≈ 667
			if n < 550 || n > 780 {
				t.Errorf("%s drawn %d times of %d", s.Code, n, seeds)
			}
		case "农贸市场": // 6 per district, 1 drawn: expect ≈ 333
			if n < 250 || n > 420 {
				t.Errorf("%s drawn %d times of %d", s.Code, n, seeds)
			}
		}
	}
}

func TestSampleSmallGroupsAndAll(t *testing.T) {
	sites := sampleSites()
	plan, _ := ParsePlan("主次干道:5,农贸市场:6")
	got, _ := Sample(sites, plan, 1)
	want := 0
	for _, s := range sites {
		if s.Type != "公共厕所" {
			want++ // 3 roads and 6 markets per district: all of them
		}
	}
	if len(got) != want {
		t.Errorf("%d drawn, want %d", len(got), want)
	}
	all, _ := Sample(sites, Plan{}, 1)
	if len(all) != len(sites) || !slices.IsSortedFunc(all, func(a, b Site) int { return strings.Compare(a.Code, b.Code) }) {
		t.Errorf("all = %s", codes(all))
	}
	none, _ := Sample(nil, plan, 1)
	if len(none) != 0 {
		t.Error("sites from nothing")
	}
	dup := append(slices.Clone(sites), Site{ID: 99, Code: sites[0].Code, Type: "主次干道", District: d1})
	if _, err := Sample(dup, plan, 1); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("duplicate code: %v", err)
	}
}
