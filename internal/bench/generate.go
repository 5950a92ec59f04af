// Package bench measures the product at the volumes the issues name: a
// bulk generator for a million cases (written straight to the tables in
// large transactions, with a genuine hash-chained trail), and the timed
// scenarios whose numbers go to docs/benchmarks.md.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"chuangwen/internal/audit"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// GenOptions sizes a generated case load.
type GenOptions struct {
	Cases int
	Days  int
	Seed  uint64
	Now   time.Time
	Loc   *time.Location
	Log   func(format string, args ...any)
	// StaleStatistics leaves the planner's statistics as they were
	// before the cases were generated (the tests of plans that must not
	// depend on them).
	StaleStatistics bool
}

type refs struct {
	units      []int64
	regions    []int64 // communities
	categories []int64 // 小类
	limits     map[int64]time.Duration
	cells      map[int64][]int64 // community → its grid cells
}

func loadRefs(ctx context.Context, q store.Queryer) (refs, error) {
	var r refs
	r.limits = map[int64]time.Duration{}
	var err error
	if r.units, err = store.Int64s(ctx, q, `SELECT id FROM units ORDER BY id`); err != nil {
		return r, err
	}
	if r.regions, err = store.Int64s(ctx, q, `SELECT id FROM regions WHERE level = 'community' ORDER BY id`); err != nil {
		return r, err
	}
	rows, err := q.Query(ctx, `SELECT id, limit_unit, limit_normal FROM categories WHERE parent_id IS NOT NULL ORDER BY id`)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var unit string
		var n int
		if err := rows.Scan(&id, &unit, &n); err != nil {
			return r, err
		}
		r.categories = append(r.categories, id)
		d := time.Duration(n) * time.Hour
		if unit == "days" {
			d = time.Duration(n) * 24 * time.Hour
		}
		r.limits[id] = d
	}
	cells, err := q.Query(ctx, `SELECT id, region_id FROM grid_cells WHERE region_id IS NOT NULL ORDER BY id`)
	if err != nil {
		return r, err
	}
	defer cells.Close()
	r.cells = map[int64][]int64{}
	for cells.Next() {
		var id, region int64
		if err := cells.Scan(&id, &region); err != nil {
			return r, err
		}
		r.cells[region] = append(r.cells[region], id)
	}
	if err := cells.Err(); err != nil {
		return r, err
	}
	if len(r.units) == 0 || len(r.regions) == 0 || len(r.categories) == 0 {
		return r, fmt.Errorf("generate: the database needs units, communities and categories first (load the demo city)")
	}
	return r, rows.Err()
}

// stateMix is the share of generated cases per final state, loosely after
// a running campaign: most cases closed, a working set open in every state.
var stateMix = []struct {
	state string
	share float64
}{
	{"closed", 0.72}, {"verifying", 0.04}, {"in_progress", 0.05}, {"dispatched", 0.03}, {"postponed", 0.01},
	{"accepted", 0.03}, {"reported", 0.03}, {"rejected", 0.05}, {"merged", 0.03}, {"voided", 0.01},
}

func pickState(r *rand.Rand) string {
	x := r.Float64()
	for _, s := range stateMix {
		if x < s.share {
			return s.state
		}
		x -= s.share
	}
	return "closed"
}

// path is the actions a case in a final state went through.
var paths = map[string][]string{
	"reported":    {"report"},
	"accepted":    {"report", "accept"},
	"rejected":    {"report", "reject"},
	"merged":      {"report", "merge"},
	"dispatched":  {"report", "accept", "dispatch"},
	"in_progress": {"report", "accept", "dispatch", "acknowledge"},
	"postponed":   {"report", "accept", "dispatch", "acknowledge", "postpone"},
	"verifying":   {"report", "accept", "dispatch", "acknowledge", "feedback"},
	"closed":      {"report", "accept", "dispatch", "acknowledge", "feedback", "verify_pass"},
	"voided":      {"report", "accept", "void"},
}

var toState = map[string]string{"report": "reported", "accept": "accepted", "reject": "rejected", "merge": "merged", "dispatch": "dispatched",
	"acknowledge": "in_progress", "postpone": "postponed", "feedback": "verifying", "verify_pass": "closed", "void": "voided"}

// Generate adds opts.Cases cases with their dispatches and trail, in
// transactions of batch cases each.
func Generate(ctx context.Context, db *store.DB, opts GenOptions) error {
	r := rand.New(rand.NewPCG(opts.Seed, 7))
	refs, err := loadRefs(ctx, db.Reader())
	if err != nil {
		return err
	}
	var caseID, taskID int64
	if err := db.Reader().QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM cases`).Scan(&caseID); err != nil {
		return err
	}
	if err := db.Reader().QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM dispatches`).Scan(&taskID); err != nil {
		return err
	}
	span := time.Duration(opts.Days) * 24 * time.Hour
	seqByYear := map[string]int64{}
	const batch = 5000
	start := time.Now()
	for done := 0; done < opts.Cases; done += batch {
		n := min(batch, opts.Cases-done)
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			var cases, dispatches, terms [][]any
			var events []*audit.Entry
			for i := 0; i < n; i++ {
				caseID++
				state := pickState(r)
				reported := opts.Now.Add(-time.Duration(r.Int64N(int64(span)))).Truncate(time.Millisecond)
				if state != "closed" && state != "rejected" && state != "merged" && state != "voided" {
					// open cases are recent
					reported = opts.Now.Add(-time.Duration(r.Int64N(int64(14 * 24 * time.Hour)))).Truncate(time.Millisecond)
				}
				year := reported.In(opts.Loc).Format("2006")
				if _, ok := seqByYear[year]; !ok {
					// continue the year's numbering where the product left it
					var v int64
					if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = ?`, "case_no_"+year).Scan(&v); err != nil {
						return err
					}
					seqByYear[year] = v
				}
				seqByYear[year]++
				cat := refs.categories[r.IntN(len(refs.categories))]
				region := refs.regions[r.IntN(len(refs.regions))]
				unit := refs.units[r.IntN(len(refs.units))]
				limit := refs.limits[cat]
				t := reported
				var accepted, dispatched, closed, deadline, warnAt time.Time
				var lead, dispatch any
				overdue, warning := false, 0
				var handled time.Time
				for _, a := range paths[state] {
					t = t.Add(time.Duration(10+r.IntN(120)) * time.Minute)
					switch a {
					case "accept":
						accepted = t
					case "dispatch":
						dispatched = t
						deadline = t.Add(limit)
						warnAt = t.Add(limit * 8 / 10)
						lead = unit
						taskID++
						dispatch = taskID
					case "feedback":
						// a fifth of the units run late
						if r.IntN(5) == 0 {
							t = deadline.Add(time.Duration(1+r.IntN(48)) * time.Hour)
						} else {
							t = dispatched.Add(time.Duration(r.Int64N(int64(limit))))
						}
						handled = t
					case "verify_pass":
						closed = t
					}
					events = append(events, &audit.Entry{At: t, ActorName: "bench", ActorRole: "system", Action: a, CaseID: caseID, ToState: toState[a]})
				}
				if dispatch != nil {
					late := !handled.IsZero() && handled.After(deadline) || handled.IsZero() && opts.Now.After(deadline) && state != "postponed"
					if late && handled.IsZero() {
						overdue, warning = true, 2
					} else if handled.IsZero() && opts.Now.After(warnAt) && state != "postponed" {
						warning = 1
					}
					dispatches = append(dispatches, []any{taskID, caseID, unit, region, store.Ms(dispatched), store.Ms(deadline), store.Ms(dispatched.Add(time.Hour)),
						store.Ms(handled), store.Ms(closed), state == "postponed", late})
				}
				var overdueAt time.Time
				if overdue {
					overdueAt = deadline
				}
				var cell any // a cell of its community, when the city has a grid
				if cs := refs.cells[region]; len(cs) > 0 {
					cell = cs[r.IntN(len(cs))]
				}
				no := fmt.Sprintf("%s-%06d", year, seqByYear[year])
				desc, addr, phone := caseText(r)
				cases = append(cases, []any{caseID, no, "citizen", cat, desc, 24.9 + r.Float64()*0.2, 102.6 + r.Float64()*0.3,
					addr, region, cell, 1, state, lead, dispatch, store.Ms(deadline), store.Ms(warnAt), warning, overdue, store.Ms(overdueAt),
					store.Ms(reported), store.Ms(accepted), store.Ms(dispatched), store.Ms(closed), store.Ms(t), r.IntN(50) == 0, phone})
				terms = append(terms, []any{caseID, workflow.SearchTerms(no, desc, addr)})
			}
			if err := insertRows(ctx, tx, `cases (id, no, source, category_id, description, lat, lon, address, region_id, grid_cell_id, urgency, state, lead_unit_id, dispatch_id, deadline, warn_at, warning, overdue, overdue_at, reported_at, accepted_at, dispatched_at, closed_at, updated_at, supervised, reporter_phone)`, cases); err != nil {
				return err
			}
			if err := insertRows(ctx, tx, `dispatches (id, case_id, unit_id, region_id, dispatched_at, deadline, acked_at, handled_at, closed_at, postponed, overdue)`, dispatches); err != nil {
				return err
			}
			if err := insertTerms(ctx, tx, terms); err != nil {
				return err
			}
			return audit.AppendBatch(ctx, tx, events)
		})
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		if opts.Log != nil && (done+n)%100000 < batch {
			opts.Log("generated %d cases (%.0f/s)", done+n, float64(done+n)/time.Since(start).Seconds())
		}
	}
	err = db.WithTx(ctx, func(tx *store.Tx) error {
		for year, n := range seqByYear {
			if _, err := tx.Exec(ctx, `INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, "case_no_"+year, n); err != nil {
				return err
			}
		}
		if db.Dialect == store.Postgres {
			for _, t := range []string{"cases", "dispatches"} {
				if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))`, t, t)); err != nil {
					return err
				}
			}
			return nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The trail chained, as a server that had filed these cases over
	// months would have it.
	if _, err := audit.Seal(ctx, db); err != nil {
		return err
	}
	if opts.StaleStatistics {
		return nil
	}
	if db.Dialect != store.Postgres {
		// fresh statistics, and reader connections that plan with them
		return db.Optimize(ctx)
	}
	// A bulk load leaves the visibility map empty, so index-only scans
	// would still visit the heap until autovacuum passes: do its work now.
	// (VACUUM cannot run inside a transaction.)
	_, err = db.Exec(ctx, `VACUUM ANALYZE`)
	return err
}

// Words of generated cases: what residents report, where, and roads.
var (
	genProblems = []string{"井盖缺失", "垃圾桶满溢", "共享单车乱停放", "占道经营", "违规张贴小广告", "绿化带缺损", "路灯不亮", "污水外溢",
		"墙面乱涂乱画", "机动车乱停", "渣土撒漏", "护栏损坏", "盲道被占", "宣传栏破损", "公厕不洁", "积水严重", "暴露垃圾", "油烟扰民",
		"噪音扰民", "道路破损", "树木倒伏", "流浪犬伤人", "消防通道被占用", "非机动车乱停", "楼道堆放杂物", "施工围挡破损",
		"公益广告缺失", "店外乱堆放", "沿街晾晒", "垃圾分类不到位"}
	genPlaces  = []string{"人行道上", "小区门口", "公交站旁", "菜市场周边", "学校门口", "路口", "背街小巷", "广场", "河道边", "医院门口"}
	genDetails = []string{"", "，影响通行", "，已持续多日", "，请尽快处理", "，居民反映强烈", "，存在安全隐患"}
	genRoads   = []string{"人民中路", "人民西路", "北京路", "青年路", "东风东路", "东风西路", "金碧路", "环城南路", "滇池路", "白塔路",
		"穿金路", "龙泉路", "金星路", "盘江路", "小康大道", "春城路", "广福路", "前兴路", "西昌路", "新闻路", "一二一大街", "学府路",
		"建设路", "昆河路", "巫家坝路", "关上路", "世纪城路", "福德路", "云大西路", "圆通街"}
)

// caseText draws a generated case's description, address and (for one
// case in five) the reporter's phone.
func caseText(r *rand.Rand) (desc, addr, phone string) {
	desc = genPlaces[r.IntN(len(genPlaces))] + genProblems[r.IntN(len(genProblems))] + genDetails[r.IntN(len(genDetails))]
	addr = fmt.Sprintf("%s%d号", genRoads[r.IntN(len(genRoads))], 1+r.IntN(400))
	if r.IntN(5) == 0 {
		phone = fmt.Sprintf("13%09d", r.IntN(1_000_000_000))
	}
	return desc, addr, phone
}

// insertTerms indexes generated cases for search, as workflow does for a
// filed one.
func insertTerms(ctx context.Context, tx *store.Tx, rows [][]any) error {
	pg := tx.Dialect() == store.Postgres
	for start := 0; start < len(rows); start += 10000 {
		chunk := rows[start:min(start+10000, len(rows))]
		args := make([]any, 0, 4*len(chunk))
		for _, row := range chunk {
			args = append(args, row...)
			if pg {
				args = append(args, row[0], row[0])
			}
		}
		q := tx.Dialect().SearchInsert(len(chunk))
		if pg {
			// with the unit tokens: an update after the insert wrote every
			// term's GIN entry again, seconds a batch in a large city
			q = `INSERT INTO case_search (case_id, terms) VALUES ` +
				strings.TrimSuffix(strings.Repeat(`(?, to_tsvector('simple', ?) || `+workflow.UnitTokensSQL("?")+`),`, len(chunk)), ",")
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("index generated cases: %w", err)
		}
	}
	return nil
}

// insertRows writes rows with multi-row INSERTs under the engines'
// parameter limits.
func insertRows(ctx context.Context, tx *store.Tx, table string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	per := 30000 / cols
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " VALUES ")
		args := make([]any, 0, len(chunk)*cols)
		for i, row := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(ph)
			args = append(args, row...)
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", strings.Fields(table)[0], err)
		}
	}
	return nil
}
