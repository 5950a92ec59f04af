package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/volunteer"
)

// GenerateVolunteers grows the volunteer service to volunteers
// volunteers (spread over the existing teams) and records confirmed
// service records over the last days days (about 20 to an activity),
// with multi-row inserts: the rows the real paths would write, made
// fast enough for millions. The teams must exist (the demo city's).
func GenerateVolunteers(ctx context.Context, db *store.DB, volunteers, records, days int, now time.Time, loc *time.Location, seed uint64, log func(string, ...any)) error {
	r := db.Reader()
	var have, haveRecs int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM volunteers`).Scan(&have); err != nil {
		return err
	}
	if err := r.QueryRow(ctx, `SELECT count(*) FROM service_records`).Scan(&haveRecs); err != nil {
		return err
	}
	type team struct{ id, region int64 }
	teams, err := store.Collect(ctx, r, func(s store.Scanner) (team, error) {
		var t team
		return t, s.Scan(&t.id, &t.region)
	}, `SELECT id, region_id FROM volunteer_teams ORDER BY id`)
	if err != nil {
		return err
	}
	if len(teams) == 0 {
		return fmt.Errorf("no volunteer teams: load the demo city with its volunteer service first")
	}
	// a volunteer's home region is a street: the team's region, or a
	// street of the city for a unit's team
	streets, err := store.Int64s(ctx, r, `SELECT id FROM regions WHERE level = 'street' ORDER BY id`)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0x7f4a7c15))
	nowMs := store.Ms(now)
	start := time.Now()
	const batch = 20000
	for made := have; made < volunteers; {
		n := min(batch, volunteers-made)
		rows := make([][]any, 0, n)
		for i := range n {
			seq := made + i + 1
			t := teams[rng.IntN(len(teams))]
			region := t.region
			if !contains(streets, region) {
				region = streets[rng.IntN(len(streets))]
			}
			// on the roster before the generated service
			created := nowMs - int64(days+rng.IntN(600))*86_400_000
			h := sha256.Sum256(fmt.Appendf(nil, "bench-volunteer-%d", seq))
			rows = append(rows, []any{fmt.Sprintf("志愿者%d", seq), fmt.Sprintf("17%09d", seq), hex.EncodeToString(h[:]), "-", "3301**********0000", "", "",
				t.id, region, volunteer.StatusActive, volunteer.SourceImport, "", created, created, created, 0})
		}
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			return insertRows(ctx, tx, `volunteers (name, phone, id_hash, id_sealed, id_masked, national_no, skills, team_id, region_id, status, source, password_hash, consent_at, created_at, decided_at, minutes)`, rows)
		})
		if err != nil {
			return err
		}
		made += n
		log("volunteers: %d", made)
	}
	// The planner's statistics of the grown tables before the service
	// records go in: their foreign key checks must look volunteers and
	// activities up by index (an unanalysed table looks small, and a
	// PostgreSQL run without autovacuum then checks each row by scanning).
	if err := db.Optimize(ctx); err != nil {
		return err
	}
	type vol struct{ id, team, region int64 }
	vols, err := store.Collect(ctx, r, func(s store.Scanner) (vol, error) {
		var v vol
		return v, s.Scan(&v.id, &v.team, &v.region)
	}, `SELECT id, team_id, region_id FROM volunteers WHERE status = 'active' ORDER BY id`)
	if err != nil {
		return err
	}
	byTeam := map[int64][]vol{}
	for _, v := range vols {
		byTeam[v.team] = append(byTeam[v.team], v)
	}
	type quarterKey struct {
		quarter   string
		volunteer int64
	}
	type quarterRow struct{ region, minutes int64 }
	quarters := map[quarterKey]*quarterRow{}
	for made := haveRecs; made < records; {
		// one transaction: an activity per 20 records, then its records
		acts := min(batch/20, (records-made+19)/20)
		var recRows [][]any
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			for range acts {
				t := teams[rng.IntN(len(teams))]
				members := byTeam[t.id]
				if len(members) == 0 {
					continue
				}
				begin := nowMs - int64(rng.IntN(days*24*60))*60_000
				hours := int64(2 + rng.IntN(3))
				id, err := store.InsertID(ctx, tx, `INSERT INTO activities (team_id, kind, title, address, lat, lon, region_id, starts_at, ends_at, capacity, radius_m, checkin_token, created_at)
					VALUES (?, 'environment', '环境整治', '某社区', 25.0, 102.75, ?, ?, ?, 40, 300, ?, ?)`, t.id, t.region, begin, begin+hours*3_600_000, org.RandomToken(18), begin-86_400_000)
				if err != nil {
					return err
				}
				seen := map[int64]bool{}
				for range min(20, records-made-len(recRows)) {
					v := members[rng.IntN(len(members))]
					if seen[v.id] {
						continue
					}
					seen[v.id] = true
					mins := hours*60 - int64(rng.IntN(4))*15
					recRows = append(recRows, []any{id, v.id, v.region, begin, 20, begin + mins*60_000, 20, mins, mins, begin + 86_400_000})
					k := quarterKey{volunteer.QuarterOf(store.Time(begin), loc), v.id}
					if quarters[k] == nil {
						quarters[k] = &quarterRow{region: v.region}
					}
					quarters[k].minutes += mins
				}
			}
			if err := insertRows(ctx, tx, `service_records (activity_id, volunteer_id, region_id, checkin_at, checkin_m, checkout_at, checkout_m, minutes, confirmed_minutes, confirmed_at)`, recRows); err != nil {
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
		if made == haveRecs {
			if err := db.Optimize(ctx); err != nil { // the activities, now that there are some
				return err
			}
		}
		made += len(recRows)
		log("service records: %d", made)
	}
	if records > haveRecs {
		// each volunteer's total and per-quarter totals, as confirmations
		// keep them: the stored quarters plus the generated minutes,
		// written back whole (plain multi-row inserts; PostgreSQL takes
		// seconds over one multi-row upsert of thousands of rows)
		err := store.Each(ctx, r, func(sc store.Scanner) error {
			var k quarterKey
			var v quarterRow
			if err := sc.Scan(&k.quarter, &k.volunteer, &v.region, &v.minutes); err != nil {
				return err
			}
			if q := quarters[k]; q != nil {
				q.minutes += v.minutes
			} else {
				quarters[k] = &v
			}
			return nil
		}, `SELECT quarter, volunteer_id, region_id, minutes FROM volunteer_quarters`)
		if err != nil {
			return err
		}
		rows := make([][]any, 0, len(quarters))
		for k, v := range quarters {
			rows = append(rows, []any{k.quarter, k.volunteer, v.region, v.minutes})
		}
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM volunteer_quarters`); err != nil {
				return err
			}
			return insertRows(ctx, tx, `volunteer_quarters (quarter, volunteer_id, region_id, minutes)`, rows)
		})
		if err != nil {
			return err
		}
		if _, err := db.Exec(ctx, `UPDATE volunteers SET minutes = COALESCE((SELECT SUM(confirmed_minutes) FROM service_records s WHERE s.volunteer_id = volunteers.id), 0)`); err != nil {
			return err
		}
	}
	if err := db.Optimize(ctx); err != nil {
		return err
	}
	log("generated in %s", time.Since(start).Round(time.Second))
	return nil
}

func contains(xs []int64, x int64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// VolunteerStats times the statistics of this quarter and the last one
// as the service computes them for the page and the bulletin.
func VolunteerStats(ctx context.Context, svc *volunteer.Service, now time.Time, loc *time.Location, reps int, out io.Writer) error {
	t := now.In(loc)
	q0 := time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, loc)
	leader := org.Actor{Role: org.RoleLeader, Scope: org.ScopeCity}
	fmt.Fprintf(out, "\n| statistics | runs | first ms | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|---|\n")
	for _, p := range []struct {
		name     string
		from, to time.Time
	}{{"this quarter", q0, q0.AddDate(0, 3, 0)}, {"last quarter", q0.AddDate(0, -3, 0), q0}} {
		var st volunteer.Stats
		l, err := measure(p.name, reps, func() error {
			var err error
			st, err = svc.Stats(ctx, leader, p.from, p.to)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "| %s (%d registered, %d active, %.0f h) | %d | %s | %s | %s | %s |\n", l.Name, st.City.Registered, st.City.Active, st.City.Hours, l.N, ms(l.First), ms(l.P50), ms(l.P95), ms(l.Max))
	}
	return nil
}

// Phone is a volunteer's signed-in phone over HTTP: the session cookie
// and its CSRF token.
type Phone struct {
	hc   *http.Client
	csrf string
}

var phoneCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// VolunteerSignIn signs a volunteer in on the phone pages.
func VolunteerSignIn(ctx context.Context, base, phone, password string) (*Phone, error) {
	hc, err := formSignIn(ctx, sharedTransport, base+"/v/login", url.Values{"phone": {phone}, "password": {password}, "next": {"/v"}})
	if err != nil {
		return nil, fmt.Errorf("volunteer sign-in %s: %w", phone, err)
	}
	resp, err := hc.Get(base + "/v")
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := phoneCSRF.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("volunteer home %s: status %d, no CSRF token", phone, resp.StatusCode)
	}
	return &Phone{hc: hc, csrf: string(m[1])}, nil
}

var sharedTransport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}

// CheckIn posts a check-in from the phone at (lat, lon) to the activity
// whose QR code holds token, as the page's form does.
func (p *Phone) CheckIn(ctx context.Context, base, token string, lat, lon float64) error {
	form := url.Values{"csrf": {p.csrf}, "action": {"in"}, "lat": {fmt.Sprintf("%.7f", lat)}, "lon": {fmt.Sprintf("%.7f", lon)}, "accuracy": {"12"}}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v/checkin/"+token, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `id="done"`) {
		return fmt.Errorf("check-in: status %d", resp.StatusCode)
	}
	return nil
}

// CheckinBurst sends one check-in from each phone (and, with again, a
// second one: a retry on a weak network), clients at a time, and times
// each.
func CheckinBurst(ctx context.Context, base, token string, lat, lon float64, phones []*Phone, clients int) LoadResult {
	return load(ctx, clients, 0, len(phones), func(_, i int) error {
		return phones[i-1].CheckIn(ctx, base, token, lat, lon)
	})
}

// CheckinArrivals has each phone check in once at a random moment of
// window, as a crowd arriving at an activity does: an open load, each
// request timed from its own moment, whatever the others are doing.
func CheckinArrivals(ctx context.Context, base, token string, lat, lon float64, phones []*Phone, window time.Duration, seed uint64) LoadResult {
	rng := rand.New(rand.NewPCG(seed, 0x2545f491))
	at := make([]time.Duration, len(phones))
	for i := range at {
		at[i] = time.Duration(rng.Int64N(int64(window)))
	}
	var mu sync.Mutex
	var ds []time.Duration
	var res LoadResult
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(time.Until(start.Add(at[i]))):
			case <-ctx.Done():
				return
			}
			t := time.Now()
			err := p.CheckIn(ctx, base, token, lat, lon)
			d := time.Since(t)
			mu.Lock()
			defer mu.Unlock()
			ds = append(ds, d)
			if err != nil {
				res.Errors++
				if res.FirstError == "" {
					res.FirstError = err.Error()
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(ds)
	percentiles(ds, &res)
	return res
}
