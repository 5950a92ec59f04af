package assess

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
)

// Site is what sampling needs to know of a site (点位).
type Site struct {
	ID       int64
	Code     string // unique
	Type     string // site type, e.g. 农贸市场
	District string // district code
}

// Quota asks for N sites of one type in every district.
type Quota struct {
	Type string
	N    int
}

// Plan is a round's sampling plan: every site (no quotas), or quotas per
// type and district.
type Plan struct {
	Quotas []Quota
}

// All reports whether the plan takes every site.
func (p Plan) All() bool { return len(p.Quotas) == 0 }

// String writes the plan in the form ParsePlan reads: "all" or
// "主次干道:2,农贸市场:1".
func (p Plan) String() string {
	if p.All() {
		return "all"
	}
	parts := make([]string, len(p.Quotas))
	for i, q := range p.Quotas {
		parts[i] = q.Type + ":" + strconv.Itoa(q.N)
	}
	return strings.Join(parts, ",")
}

// MaxQuota is the largest N a plan may ask for.
const MaxQuota = 100000

// ParsePlan reads "all" (or nothing) or "TYPE:N,TYPE:N,..." with N ≥ 1,
// each type at most once; spaces around the parts are ignored, and the
// full-width "，" and "：" typed on a Chinese keyboard are read as "," and
// ":". Errors are apperr.Invalid with key assess.bad_plan (argument
// "part", the part that cannot be read) or assess.dup_plan_type ("type").
func ParsePlan(s string) (Plan, error) {
	s = strings.NewReplacer("，", ",", "：", ":").Replace(strings.TrimSpace(s))
	if s == "" || s == "all" {
		return Plan{}, nil
	}
	var p Plan
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		i := strings.LastIndex(part, ":")
		if i < 0 {
			return Plan{}, apperr.New(apperr.Invalid, "assess.bad_plan", "part", part)
		}
		t := strings.TrimSpace(part[:i])
		n, err := strconv.Atoi(strings.TrimSpace(part[i+1:]))
		if t == "" || err != nil || n < 1 || n > MaxQuota {
			return Plan{}, apperr.New(apperr.Invalid, "assess.bad_plan", "part", part)
		}
		if seen[t] {
			return Plan{}, apperr.New(apperr.Invalid, "assess.dup_plan_type", "type", t)
		}
		seen[t] = true
		p.Quotas = append(p.Quotas, Quota{Type: t, N: n})
	}
	return p, nil
}

// Sample draws a round's sites. The result depends only on the sites'
// codes, types and districts, the plan and the seed, never on the order
// the sites are given in, so the same inputs give the same sample on any
// machine and database. It is returned sorted by code.
//
// The algorithm, precisely enough to be reimplemented:
//
//  1. Sort the sites by code (byte order of the UTF-8 text). Two sites
//     with one code are an error (apperr.Invalid, assess.dup_site_code).
//  2. A plan of "all" returns every site.
//  3. Otherwise each district (the district codes of the sites, sorted)
//     and each quota of the plan (in any order: every group has its own
//     generator) form a group: the sites of that district and type, in
//     code order, indexed 0 … n−1. Sites of a type the plan does not name
//     are not drawn. A group with n ≤ N gives all of its sites.
//  4. Otherwise the group's generator is SplitMix64 with the initial state
//     seed XOR FNV-1a-64(district + "\x00" + type) (the UTF-8 bytes; FNV
//     offset basis 14695981039346656037, prime 1099511628211). Each draw:
//     state += 0x9E3779B97F4A7C15; z = state;
//     z = (z XOR z>>30) × 0xBF58476D1CE4E5B9; z = (z XOR z>>27) ×
//     0x94D049BB133111EB; output z XOR z>>31 (all modulo 2^64).
//  5. A uniform integer below m is drawn by rejection: t = 2^64 mod m;
//     draw x until x ≥ t, then return x mod m.
//  6. Partial Fisher–Yates on the index list a = [0, 1, …, n−1]: for i = 0
//     … N−1, j = i + uniform(n − i), swap a[i] and a[j]. The group's sample
//     is the sites at a[0] … a[N−1].
func Sample(sites []Site, plan Plan, seed uint64) ([]Site, error) {
	sorted := append([]Site(nil), sites...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Code < sorted[j].Code })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Code == sorted[i-1].Code {
			return nil, apperr.New(apperr.Invalid, "assess.dup_site_code", "code", sorted[i].Code)
		}
	}
	if plan.All() {
		return sorted, nil
	}
	quota := map[string]int{}
	for _, q := range plan.Quotas {
		quota[q.Type] = q.N
	}
	groups := map[[2]string][]int{} // (district, type) → indexes into sorted, in code order
	var keys [][2]string
	for i, s := range sorted {
		if _, ok := quota[s.Type]; !ok {
			continue
		}
		k := [2]string{s.District, s.Type}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	chosen := make([]bool, len(sorted))
	for _, k := range keys {
		members := groups[k]
		for _, i := range drawGroup(len(members), quota[k[1]], seed, k[0], k[1]) {
			chosen[members[i]] = true
		}
	}
	var out []Site
	for i, s := range sorted {
		if chosen[i] {
			out = append(out, s)
		}
	}
	return out, nil
}

// drawGroup returns the positions (0 … n−1) drawn for one group.
func drawGroup(n, want int, seed uint64, district, siteType string) []int {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	if n <= want {
		return a
	}
	h := fnv.New64a()
	h.Write([]byte(district + "\x00" + siteType))
	g := splitMix64{state: seed ^ h.Sum64()}
	for i := 0; i < want; i++ {
		j := i + int(g.below(uint64(n-i)))
		a[i], a[j] = a[j], a[i]
	}
	return a[:want]
}

// splitMix64 is Steele, Lea and Flood's SplitMix64 generator.
type splitMix64 struct{ state uint64 }

func (g *splitMix64) next() uint64 {
	g.state += 0x9E3779B97F4A7C15
	z := g.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// below returns a uniform integer in [0, m), m > 0, by rejection.
func (g *splitMix64) below(m uint64) uint64 {
	t := -m % m // 2^64 mod m
	for {
		if x := g.next(); x >= t {
			return x % m
		}
	}
}
