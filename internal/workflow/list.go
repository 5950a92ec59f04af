package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

var allQueues = []Queue{QueueToAccept, QueueToDispatch, QueueToHandle, QueueToVerify, QueueMyCells, QueueOverdue, QueueExtension, QueueSupervised}

func stateList(states []State) string {
	parts := make([]string, 0, len(states))
	for _, st := range states {
		if slices.Contains(States, st) { // never anything but the enum
			parts = append(parts, "'"+string(st)+"'")
		}
	}
	if len(parts) == 0 {
		return "NULL"
	}
	return strings.Join(parts, ",")
}

func idList(ids []int64) string {
	if len(ids) == 0 {
		return "NULL"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// resolved is what a filter's ids and search come to: the ids of a
// region's subtree and of a category and its children, and the search's
// condition.
type resolved struct {
	regionIDs, categoryIDs []int64
	search                 string
	searchArgs             []any
}

// driven says the search index drives the list (SQLite's FTS5).
func (res resolved) driven() bool { return res.search == searchMatch }

// from is the FROM clause of a list with the filter: the cases, behind the
// search index when it drives.
func (res resolved) from() string {
	if res.driven() {
		return " FROM case_search s CROSS JOIN cases c"
	}
	return " FROM cases c"
}

// resolveFilter turns a region into the ids of its subtree, a category
// into itself and its children, and a search into its condition. Unknown
// ids match nothing.
func (s *Service) resolveFilter(ctx context.Context, actor org.Actor, f Filter) (res resolved, err error) {
	q := s.DB.Reader()
	if f.RegionID != 0 {
		res.regionIDs, err = store.Int64s(ctx, q, `SELECT r.id FROM regions r, regions top WHERE top.id = ? AND r.path LIKE top.path || '%'`, f.RegionID)
		if err != nil {
			return res, err
		}
	}
	if f.CategoryID != 0 {
		if res.categoryIDs, err = store.Int64s(ctx, q, `SELECT id FROM categories WHERE id = ? OR parent_id = ?`, f.CategoryID, f.CategoryID); err != nil {
			return res, err
		}
	}
	if strings.TrimSpace(f.Q) != "" {
		res.search, res.searchArgs, err = s.searchCond(ctx, actor, f.Q)
	}
	return res, err
}

// Queue names a work queue (工作队列).
type Queue string

const (
	QueueToAccept   Queue = "to_accept"   // 待受理
	QueueToDispatch Queue = "to_dispatch" // 待派遣
	QueueToHandle   Queue = "to_handle"   // 待处置
	QueueToVerify   Queue = "to_verify"   // 待核查
	QueueOverdue    Queue = "overdue"     // 已超期
	QueueExtension  Queue = "extension"   // 延期待审
	QueueSupervised Queue = "supervised"  // 挂牌督办
	// QueueMyCells is a grid worker's (网格员) verification queue: cases
	// waiting to be checked on site in the cells assigned to them.
	QueueMyCells Queue = "my_cells" // 我的网格待核查
)

// QueuesFor lists the queues a role works from, in display order.
func QueuesFor(role org.Role) []Queue {
	switch role {
	case org.RoleAcceptor:
		return []Queue{QueueToAccept, QueueToDispatch, QueueExtension, QueueToVerify, QueueOverdue, QueueSupervised}
	case org.RoleHandler:
		return []Queue{QueueToHandle, QueueOverdue}
	case org.RoleGrid:
		return []Queue{QueueMyCells, QueueToVerify, QueueOverdue}
	case org.RoleInspector:
		return []Queue{QueueToVerify, QueueOverdue}
	case org.RoleLeader, org.RoleAdmin:
		return []Queue{QueueSupervised, QueueOverdue, QueueToVerify}
	}
	return nil
}

// Filter selects cases for a list.
type Filter struct {
	Queue      Queue
	States     []State
	CategoryID int64
	UnitID     int64 // lead unit
	RegionID   int64 // the region and everything under it
	CellID     int64 // grid cell (万米单元网格)
	Warning    int   // 1 yellow or worse, 2 red
	Supervised bool
	From, To   time.Time // reported_at in [From, To)
	// ClosedFrom, ClosedTo: closed_at in [ClosedFrom, ClosedTo).
	ClosedFrom, ClosedTo time.Time
	No                   string // case number (exact)
	// Q is a search (检索): a part of the case number, words of the
	// address or description, a receipt code, or (for the roles that see
	// reporters) the reporter's phone number.
	Q string
	// Sort orders the list: newest reported first (the default), oldest
	// first, soonest deadline first, or worst warning first.
	Sort Sort
	// Before is the cursor of the newest-first list: only cases with
	// id < Before.
	Before int64
	// Page numbers the pages of Limit cases from 1 (any order; Before is
	// then ignored). Pages beyond the count are empty.
	Page  int
	Limit int
	// ExactTotal counts every match rather than stopping at CountCap.
	ExactTotal bool
}

// Sort is a case list's order.
type Sort string

const (
	SortNewest   Sort = ""         // 最新上报
	SortOldest   Sort = "oldest"   // 最早上报
	SortDeadline Sort = "deadline" // 处置时限最近 (cases without one last)
	SortWarning  Sort = "warning"  // 预警最重, then the deadline
)

// Sorts are the orders a list offers.
var Sorts = []Sort{SortNewest, SortOldest, SortDeadline, SortWarning}

// orderBy is the ORDER BY of a sort; the id breaks every tie, so pages
// never overlap.
func (o Sort) orderBy() string {
	const byDeadline = "CASE WHEN c.deadline = 0 THEN 1 ELSE 0 END, c.deadline, c.id DESC"
	switch o {
	case SortOldest:
		return "c.id"
	case SortDeadline:
		return byDeadline
	case SortWarning:
		return "c.warning DESC, " + byDeadline
	}
	return "c.id DESC"
}

// Page is one page of a case list.
type Page struct {
	Cases []*Case `json:"cases"`
	// Next is the cursor for the following page (0 at the end).
	Next int64 `json:"next,omitempty"`
	// Pages is the number of pages the total makes (of the counted ones
	// when capped).
	Pages int `json:"pages"`
	// Total counts matching cases up to CountCap; TotalCapped says the
	// real number is larger. Counting a million rows exactly for every
	// page costs more than the page itself.
	Total       int  `json:"total"`
	TotalCapped bool `json:"total_capped,omitempty"`
}

// CountCap bounds the count shown beside a list ("more than 1000 cases:
// narrow the filter"). Counting further costs more than the page itself
// when a filter matches a few percent of a million cases; the exact
// numbers a leader needs are the dashboard counters and the figures.
const CountCap = 1000

// pkScanFrom is the number of matches from which a SQLite list page is
// read by walking the table in id order rather than through an index:
// reading and sorting n matches costs about n row reads, walking costs
// about limit × rows/n, and the two meet near a thousand or two matches
// for a million-case table.
const pkScanFrom = CountCap

// searchWalkFrom is the number of matches from which a PostgreSQL search
// page walks the cases rather than reading the matches first.
const searchWalkFrom = pkScanFrom

// where builds the filter's condition. States and the ids of a region's
// subtree and a category's children are written into the SQL as literals
// (they come from the enum and the database, never from the user as text):
// with literals both engines can prove a query matches a partial index
// and estimate an IN list, which bound parameters hide from them.
func (f Filter) where(d store.Dialect, actor org.Actor, res resolved) (string, []any) {
	cond, args := actor.CaseScope(d)
	conds := []string{cond}
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	states := f.States
	switch f.Queue {
	case QueueToAccept:
		states = []State{Reported}
	case QueueToDispatch:
		states = []State{Accepted}
	case QueueToHandle:
		states = []State{Dispatched, InProgress}
	case QueueToVerify:
		states = []State{Verifying}
	case QueueMyCells:
		states = []State{Verifying}
		add("c.grid_cell_id IN (SELECT cell_id FROM grid_assignments WHERE user_id = ?)", actor.UserID)
	case QueueOverdue:
		states = []State{Dispatched, InProgress}
		add("c.overdue = TRUE")
	case QueueExtension:
		states = []State{InProgress}
		add("c.ext_pending = TRUE")
	case QueueSupervised:
		// listed until closed
		states = []State{Reported, Accepted, Dispatched, InProgress, Postponed, Verifying}
		add("c.supervised = TRUE")
	}
	if len(states) > 0 {
		conds = append(conds, "c.state IN ("+stateList(states)+")")
	}
	if f.CategoryID != 0 {
		conds = append(conds, "c.category_id IN ("+idList(res.categoryIDs)+")")
	}
	if f.RegionID != 0 {
		conds = append(conds, "c.region_id IN ("+idList(res.regionIDs)+")")
	}
	if f.UnitID != 0 {
		add("c.lead_unit_id = ?", f.UnitID)
	}
	if f.CellID != 0 {
		add("c.grid_cell_id = ?", f.CellID)
	}
	if f.Warning > 0 {
		add("c.warning >= ?", f.Warning)
	}
	if f.Supervised && f.Queue != QueueSupervised {
		add("c.supervised = TRUE")
	}
	if !f.From.IsZero() {
		add("c.reported_at >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("c.reported_at < ?", f.To.UnixMilli())
	}
	if !f.ClosedFrom.IsZero() {
		add("c.closed_at >= ?", f.ClosedFrom.UnixMilli())
	}
	if !f.ClosedTo.IsZero() {
		add("c.closed_at < ?", f.ClosedTo.UnixMilli())
	}
	if f.No != "" {
		add("c.no = ?", f.No)
	}
	if res.search != "" {
		add(res.search, res.searchArgs...)
	}
	return strings.Join(conds, " AND "), args
}

// MaxPage bounds a list's page number: beyond it the offset would
// overflow (a page of 200 at most), and no list has that many pages.
const MaxPage = 1_000_000

// Check refuses a filter naming an unknown state or queue.
func (f Filter) Check() error {
	for _, st := range f.States {
		if !slices.Contains(States, st) {
			return apperr.New(apperr.Invalid, "case.bad_state", "state", string(st))
		}
	}
	if f.Queue != "" && !slices.Contains(allQueues, f.Queue) {
		return apperr.New(apperr.Invalid, "case.bad_queue")
	}
	if !slices.Contains(Sorts, f.Sort) {
		return apperr.New(apperr.Invalid, "case.bad_sort", "sort", string(f.Sort))
	}
	if f.Page < 0 || f.Page > MaxPage {
		return apperr.New(apperr.Invalid, "bad_number", "field", "page")
	}
	return nil
}

// List returns one page of the cases actor may see that match f, newest
// first.
func (s *Service) List(ctx context.Context, actor org.Actor, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if err := f.Check(); err != nil {
		return Page{}, err
	}
	res, err := s.resolveFilter(ctx, actor, f)
	if err != nil {
		return Page{}, err
	}
	where, args := f.where(s.DB.Dialect, actor, res)
	q := s.DB.Standby(ctx)
	var page Page
	count := `SELECT count(*) FROM (SELECT 1` + res.from() + ` WHERE ` + where + ` LIMIT ?) t`
	countArgs := append(slices.Clone(args), CountCap+1)
	if f.ExactTotal {
		count, countArgs = `SELECT count(*)`+res.from()+` WHERE `+where, args
	}
	if err := q.QueryRow(ctx, count, countArgs...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count cases: %w", err)
	}
	if page.Total > CountCap && !f.ExactTotal {
		page.Total, page.TotalCapped = CountCap, true
	}
	page.Pages = (page.Total + f.Limit - 1) / f.Limit
	pageWhere, pageArgs := where, args
	walking := false // a PostgreSQL search page that walks the cases
	if isPGSearch(res.search) {
		// PostgreSQL cannot estimate a phrase of overlapping pairs (it
		// multiplies their frequencies as if they were independent), so
		// the count just made decides the plan: many matches, walk the
		// cases newest first and test each one's terms; few, read the
		// matches from the index once and fetch those cases.
		many := res
		many.search = pgAs(pgSearchFew, res.search)
		walk := searchWalkFrom
		if s.walkFrom > 0 {
			walk = s.walkFrom
		}
		if page.Total >= walk && (f.Sort == SortNewest || f.Sort == SortOldest) {
			many.search = pgAs(pgSearchMany, res.search)
			walking = true
		}
		pageWhere, pageArgs = f.where(s.DB.Dialect, actor, many)
	}
	numbered := f.Page > 0 || f.Sort != SortNewest
	order := f.Sort.orderBy()
	if res.driven() {
		order = strings.ReplaceAll(order, "c.id", "s.rowid") // the index's own order
	}
	tail := ` ORDER BY ` + order + ` LIMIT ?`
	if numbered {
		pageArgs = append(slices.Clone(args), f.Limit+1, (max(f.Page, 1)-1)*f.Limit)
		tail += ` OFFSET ?`
	} else {
		if f.Before > 0 {
			if res.driven() {
				pageWhere += " AND s.rowid < ?"
			} else {
				pageWhere += " AND c.id < ?"
			}
			pageArgs = append(slices.Clone(args), f.Before)
		}
		pageArgs = append(slices.Clone(pageArgs), f.Limit+1)
	}
	from := strings.Replace(caseFrom, " FROM cases c", res.from(), 1)
	if s.DB.Dialect == store.SQLite && !res.driven() && page.Total >= pkScanFrom && (f.Sort == SortNewest || f.Sort == SortOldest) {
		// Many matches: walking the table in id order finds a page after
		// a few thousand rows at most, while SQLite's planner would rather
		// read every match through an index and sort them all.
		// (PostgreSQL weighs the LIMIT itself.)
		from = strings.Replace(caseFrom, "FROM cases c", "FROM cases c NOT INDEXED", 1)
	}
	query := `SELECT ` + caseCols + from + ` WHERE ` + pageWhere + tail
	if !res.driven() && numbered && f.Sort != SortNewest && f.Sort != SortOldest && page.Total > f.Limit {
		// Sorted by deadline or warning, a long queue (a unit's thousands
		// in handling) is ordered on its ids and sort keys, and only the
		// page's cases are read whole and joined: sorting whole rows with
		// their names costs far more (a unit's 8,900 cases by deadline:
		// 145 ms whole, 65-85 ms this way).
		query = `SELECT ` + caseCols + caseFrom + ` WHERE c.id IN (SELECT c.id` + res.from() + ` WHERE ` + pageWhere + tail + `) ORDER BY ` + order
	}
	if unitQueueByDeadline(actor, f, res, numbered) {
		n := (max(f.Page, 1)-1)*f.Limit + f.Limit + 1
		// the actor's own conditions but the unit scope, which the three
		// parts spell out themselves
		wide := actor
		wide.Scope, wide.RegionIDs = org.ScopeCity, nil
		plain, plainArgs := f.where(s.DB.Dialect, wide, res)
		u := actor.UnitID
		query = `SELECT ` + caseCols + caseFrom + ` WHERE c.id IN (` +
			`SELECT id FROM (SELECT c.id FROM cases c WHERE c.lead_unit_id = ? AND ` + plain + ` AND c.deadline > 0 ORDER BY c.deadline, c.id DESC LIMIT ?) lead_due` +
			` UNION ALL SELECT id FROM (SELECT c.id FROM cases c WHERE c.lead_unit_id = ? AND ` + plain + ` AND c.deadline = 0 ORDER BY c.id DESC LIMIT ?) lead_none` +
			` UNION ALL SELECT id FROM (SELECT c.id FROM cases c WHERE ` + s.DB.Dialect.InSubquery("c.id", "SELECT case_id FROM case_coop_units WHERE unit_id = ?") +
			` AND COALESCE(c.lead_unit_id, 0) <> ? AND ` + plain + ` ORDER BY ` + order + ` LIMIT ?) coop` +
			`) ORDER BY ` + order + ` LIMIT ? OFFSET ?`
		qa := append([]any{u}, plainArgs...)
		qa = append(qa, n, u)
		qa = append(qa, plainArgs...)
		qa = append(qa, n, u, u)
		qa = append(qa, plainArgs...)
		pageArgs = append(qa, n, f.Limit+1, (max(f.Page, 1)-1)*f.Limit)
	}
	if walking {
		// Walk only the newest (or oldest) cases that pass the other
		// filters, a window some sixty times the rows wanted: enough when
		// the matches are dense (a word in one case of sixty), cheap when
		// they are not. The window is a prefix of the list's order, so a
		// full page found in it is the right page; otherwise the matches
		// are read from the index instead (the "few" way), which is right
		// for any density.
		plain := res
		plain.search, plain.searchArgs = "", nil
		inner, innerArgs := f.where(s.DB.Dialect, actor, plain)
		if !numbered && f.Before > 0 {
			inner += " AND c.id < ?"
			innerArgs = append(innerArgs, f.Before)
		}
		nTail, offset := 1, 0 // the tail's arguments: the limit, and a numbered page's offset
		if numbered {
			nTail, offset = 2, (max(f.Page, 1)-1)*f.Limit
		}
		window := max(searchWalkWindow, 60*(offset+f.Limit+1))
		if s.walkWindow > 0 {
			window = s.walkWindow
		}
		walk := `SELECT ` + caseCols + strings.Replace(caseFrom, " FROM cases c", ` FROM (SELECT * FROM cases c WHERE `+inner+` ORDER BY `+order+` LIMIT `+strconv.Itoa(window)+`) c`, 1) +
			` WHERE ` + pgAs(pgSearchMany, res.search) + tail
		walkArgs := append(append(innerArgs, res.searchArgs...), pageArgs[len(pageArgs)-nTail:]...)
		cases, err := s.readCases(ctx, q, actor, walk, walkArgs)
		if err != nil {
			return page, err
		}
		if len(cases) == f.Limit+1 { // the window held the page and one more
			page.Cases = cases
		} else {
			few := res
			few.search = pgAs(pgSearchFew, res.search)
			fewWhere, _ := f.where(s.DB.Dialect, actor, few)
			if !numbered && f.Before > 0 {
				fewWhere += " AND c.id < ?"
			}
			query = `SELECT ` + caseCols + caseFrom + ` WHERE ` + fewWhere + tail
			page.Cases, err = s.readCases(ctx, q, actor, query, pageArgs)
			if err != nil {
				return page, err
			}
		}
	} else {
		page.Cases, err = s.readCases(ctx, q, actor, query, pageArgs)
		if err != nil {
			return page, err
		}
	}
	if len(page.Cases) > f.Limit {
		page.Cases = page.Cases[:f.Limit]
		if !numbered {
			page.Next = page.Cases[f.Limit-1].ID
		}
	}
	return page, nil
}

// unitQueueByDeadline says whether a unit's handler's page is read as
// three short ranges (the lead unit's cases by deadline through
// cases_q_handle_due, those without a deadline, and the cooperations)
// merged, rather than the whole queue sorted: the handler's queues in
// handling (待处置, 已超期) opened soonest deadline first. Each range
// reads at most the rows up to the page's end, so a queue of 13,000 cases
// nobody works costs a page of index entries, not a sort of 13,000.
func unitQueueByDeadline(actor org.Actor, f Filter, res resolved, numbered bool) bool {
	return actor.Role == org.RoleHandler && actor.Scope == org.ScopeUnit && actor.UnitID != 0 && f.Sort == SortDeadline && numbered && res.search == "" &&
		len(f.States) == 0 && (f.Queue == QueueToHandle || f.Queue == QueueOverdue)
}

// searchWalkWindow is the least number of cases a PostgreSQL search page
// walks before it reads the matches from the index instead.
const searchWalkWindow = 3000

// readCases runs a page query and scans its cases, the reporter hidden
// from whom may not see them.
func (s *Service) readCases(ctx context.Context, q store.Queryer, actor org.Actor, query string, args []any) ([]*Case, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []*Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		hideReporter(actor, c)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ExportRow is a case as the list's export writes it: the columns the
// export prints, names resolved from maps rather than joins.
type ExportRow struct {
	No, Source, Category, Description, Address, Region string
	State                                              State
	LeadUnit                                           string
	Deadline, ReportedAt, ClosedAt                     time.Time
	Warning                                            int
	Overdue, Supervised                                bool
	Reworks                                            int
	ReporterName, ReporterPhone                        string // empty unless actor may see the reporter
}

// EachExportRow calls fn with every case actor may see that matches f
// (its Limit and Before are ignored), newest first. It reads only the
// columns the export prints, without joins (category, region and unit
// names come from maps read once). begin, when not nil, is called once
// the filter is checked and the query runs, before the first row: what
// fails before it can still be answered as an error.
func (s *Service) EachExportRow(ctx context.Context, actor org.Actor, f Filter, begin func() error, fn func(*ExportRow) error) error {
	if err := f.Check(); err != nil {
		return err
	}
	res, err := s.resolveFilter(ctx, actor, f)
	if err != nil {
		return err
	}
	q := s.DB.Standby(ctx)
	cats, err := names(ctx, q, "categories")
	if err != nil {
		return err
	}
	regions, err := names(ctx, q, "regions")
	if err != nil {
		return err
	}
	units, err := names(ctx, q, "units")
	if err != nil {
		return err
	}
	reporter := actor.CanSeeReporter()
	where, args := f.where(s.DB.Dialect, actor, res)
	// Each row comes as one text, the columns joined by a unit separator
	// (U+001F): the drivers' cost is per column, and one column instead
	// of seventeen is most of an export's speed. The free texts have the
	// separator replaced by a space (it cannot be typed; an import could
	// bring one), so every line splits into its 17 fields.
	free := func(col string) string { return "replace(" + col + ", '\x1f', ' ')" }
	rows, err := q.Query(ctx, `SELECT concat_ws(`+exportSep+`, c.no, c.source, c.category_id, `+free(`c.description`)+`, `+free(`c.address`)+`,
		COALESCE(c.region_id, 0), c.state, COALESCE(c.lead_unit_id, 0), c.deadline, c.warning, c.overdue, c.supervised, c.rework_count,
		c.reported_at, c.closed_at, `+free(`c.reporter_name`)+`, `+free(`c.reporter_phone`)+`)`+res.from()+` WHERE `+where+` ORDER BY c.id DESC`, args...)
	if err != nil {
		return fmt.Errorf("export cases: %w", err)
	}
	defer rows.Close()
	if begin != nil {
		if err := begin(); err != nil {
			return err
		}
	}
	var e ExportRow
	var line string
	var fields [17]string
	for rows.Next() {
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if !splitFields(line, fields[:]) {
			return fmt.Errorf("export cases: a row of %d fields", strings.Count(line, "\x1f")+1)
		}
		e.No, e.Source, e.Description, e.Address, e.State = fields[0], fields[1], fields[3], fields[4], State(fields[6])
		e.Category, e.Region, e.LeadUnit = cats[atoi64(fields[2])], regions[atoi64(fields[5])], units[atoi64(fields[7])]
		e.Deadline, e.ReportedAt, e.ClosedAt = msTime(atoi64(fields[8])), msTime(atoi64(fields[13])), msTime(atoi64(fields[14]))
		e.Warning, e.Reworks = int(atoi64(fields[9])), int(atoi64(fields[12]))
		e.Overdue, e.Supervised = sqlBool(fields[10]), sqlBool(fields[11])
		e.ReporterName, e.ReporterPhone = fields[15], fields[16]
		if !reporter {
			e.ReporterName, e.ReporterPhone = "", ""
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exportSep is the separator of an export row's columns, as an SQL
// string: the unit separator U+001F.
const exportSep = "'\x1f'"

// splitFields splits a line of joined columns (exportSep) into fields;
// false when it has another number of them.
func splitFields(line string, fields []string) bool {
	n := 0
	for {
		i := strings.IndexByte(line, 0x1f)
		if i < 0 {
			break
		}
		if n == len(fields)-1 {
			return false
		}
		fields[n] = line[:i]
		line = line[i+1:]
		n++
	}
	if n != len(fields)-1 {
		return false
	}
	fields[n] = line
	return true
}

// atoi64 reads an integer column printed as text ("" and garbage: 0).
func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// sqlBool reads a boolean printed as text: 1 on SQLite, true on
// PostgreSQL.
func sqlBool(s string) bool { return s == "1" || s == "true" || s == "t" }

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return store.Time(ms)
}

// Counts returns, for each of the actor's queues, how many cases wait in
// it (the dashboard counters).
func (s *Service) Counts(ctx context.Context, actor org.Actor) (map[Queue]int, error) {
	queues, _, err := s.Dashboard(ctx, actor)
	return queues, err
}

// Dashboard returns the actor's queue counters and the open cases by
// state. Queues that are just a state (待受理 is "reported") are read off
// the state counts, so one grouped count serves them all; only the flag
// queues (overdue, extension, supervised) are counted on their own.
func (s *Service) Dashboard(ctx context.Context, actor org.Actor) (map[Queue]int, map[string]int, error) {
	states, err := s.OpenStateCounts(ctx, actor)
	if err != nil {
		return nil, nil, err
	}
	byState := map[Queue][]State{
		QueueToAccept: {Reported}, QueueToDispatch: {Accepted}, QueueToHandle: {Dispatched, InProgress}, QueueToVerify: {Verifying},
	}
	out := map[Queue]int{}
	for _, q := range append(QueuesFor(actor.Role), QueueOverdue) {
		if _, done := out[q]; done {
			continue
		}
		if sts, ok := byState[q]; ok {
			for _, st := range sts {
				out[q] += states[string(st)]
			}
			continue
		}
		where, args := Filter{Queue: q}.where(s.DB.Dialect, actor, resolved{})
		var n int
		if err := s.DB.Standby(ctx).QueryRow(ctx, `SELECT count(*) FROM cases c WHERE `+where, args...).Scan(&n); err != nil {
			return nil, nil, fmt.Errorf("count %s: %w", q, err)
		}
		out[q] = n
	}
	return out, states, nil
}

// StateCounts counts cases by state in actor's scope (metrics).
func (s *Service) StateCounts(ctx context.Context, actor org.Actor) (map[string]int, error) {
	return s.stateCounts(ctx, actor, "")
}

// OpenStateCounts counts the cases still in the loop, by state (the
// dashboard): each state is a short range of the state index, while the
// closed archive, which a full count would have to walk, is left out.
func (s *Service) OpenStateCounts(ctx context.Context, actor org.Actor) (map[string]int, error) {
	return s.stateCounts(ctx, actor, " AND c.state IN ("+stateList(OpenStates)+")")
}

// OverdueCount counts the cases in handling past their deadline (the
// metrics gauge), in the actor's scope.
func (s *Service) OverdueCount(ctx context.Context, actor org.Actor) (int, error) {
	cond, args := actor.CaseScope(s.DB.Dialect)
	var n int
	err := s.DB.Standby(ctx).QueryRow(ctx, `SELECT count(*) FROM cases c WHERE `+cond+` AND c.overdue = TRUE AND c.state IN ('dispatched', 'in_progress')`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count overdue cases: %w", err)
	}
	return n, nil
}

// CaseNo returns the number of case id, which the caller may see.
func (s *Service) CaseNo(ctx context.Context, actor org.Actor, id int64) (string, error) {
	cond, args := actor.CaseScope(s.DB.Dialect)
	var no string
	err := s.DB.Reader().QueryRow(ctx, `SELECT c.no FROM cases c WHERE c.id = ? AND `+cond, append([]any{id}, args...)...).Scan(&no)
	if errors.Is(err, sql.ErrNoRows) {
		return "", apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return "", fmt.Errorf("case number of %d: %w", id, err)
	}
	return no, nil
}

// OpenStates are the states of cases still in the loop.
var OpenStates = []State{Reported, Accepted, Dispatched, InProgress, Postponed, Verifying}

func (s *Service) stateCounts(ctx context.Context, actor org.Actor, extra string) (map[string]int, error) {
	out := map[string]int{}
	count := func(q string, args ...any) error {
		return store.Each(ctx, s.DB.Standby(ctx), func(r store.Scanner) error {
			var st string
			var n int
			if err := r.Scan(&st, &n); err != nil {
				return err
			}
			out[st] += n
			return nil
		}, q, args...)
	}
	if actor.Scope == org.ScopeUnit && actor.Role != org.RoleVolunteer && actor.UnitID != 0 {
		// A unit's cases counted as two plain lookups, its lead cases by
		// (lead unit, state) and its cooperations by unit, rather than one
		// OR that the planner may answer through the city's open cases
		// when its statistics mislead it (a city grown since they were
		// taken). A unit that also cooperates on a case it leads counts
		// it once.
		if err := count(`SELECT c.state, count(*) FROM cases c WHERE c.lead_unit_id = ?`+extra+` GROUP BY c.state`, actor.UnitID); err != nil {
			return nil, fmt.Errorf("count a unit's cases: %w", err)
		}
		err := count(`SELECT c.state, count(*) FROM case_coop_units u JOIN cases c ON c.id = u.case_id
			WHERE u.unit_id = ? AND COALESCE(c.lead_unit_id, 0) <> ?`+extra+` GROUP BY c.state`, actor.UnitID, actor.UnitID)
		if err != nil {
			return nil, fmt.Errorf("count a unit's cooperations: %w", err)
		}
		return out, nil
	}
	cond, args := actor.CaseScope(s.DB.Dialect)
	if err := count(`SELECT c.state, count(*) FROM cases c WHERE `+cond+extra+` GROUP BY c.state`, args...); err != nil {
		return nil, fmt.Errorf("count cases by state: %w", err)
	}
	return out, nil
}

// UnitWork is an open case as a unit's supervision notice lists it.
type UnitWork struct {
	UnitID      int64
	ID          int64
	No          string
	Category    string
	Region      string
	Description string
	State       State
	Deadline    time.Time
	Overdue     bool
	Supervised  bool
	Reworks     int
	ExtPending  bool
}

// names maps the ids of a table of names (categories, regions, units)
// to their names, read in one query: joining them into a long list
// costs more than looking them up.
func names(ctx context.Context, q store.Queryer, table string) (map[int64]string, error) {
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (x struct {
		id   int64
		name string
	}, err error) {
		return x, r.Scan(&x.id, &x.name)
	}, `SELECT id, name FROM `+table)
	m := make(map[int64]string, len(rows))
	for _, x := range rows {
		m[x.id] = x.name
	}
	return m, err
}

// OpenByUnit returns the open cases that the supervision notices of
// units (their ids) list, in one query, by unit and deadline: those dispatched or in progress whose
// deadline falls before soon, or that were sent back for rework; and any
// open case listed for supervision or waiting on an extension. The
// description is cut to descRunes characters (a notice prints the start).
// The cases_notice index (migration 0013) holds the conditions and the
// order, so only the cases listed are read from the table.
func (s *Service) OpenByUnit(ctx context.Context, units []int64, soon time.Time, descRunes int) ([]UnitWork, error) {
	if len(units) == 0 {
		return nil, nil
	}
	cond, args := `c.lead_unit_id IN (`+idList(units)+`)`, []any{store.Ms(soon)}
	q := s.DB.Reader()
	cats, err := names(ctx, q, "categories")
	if err != nil {
		return nil, err
	}
	regions, err := names(ctx, q, "regions")
	if err != nil {
		return nil, err
	}
	work, err := store.Collect(ctx, q, func(r store.Scanner) (w UnitWork, err error) {
		var state string
		var deadline, cat, region int64
		err = r.Scan(&w.UnitID, &w.ID, &w.No, &cat, &region, &w.Description, &state, &deadline, &w.Overdue, &w.Supervised, &w.Reworks, &w.ExtPending)
		w.State, w.Category, w.Region = State(state), cats[cat], regions[region]
		if deadline > 0 {
			w.Deadline = store.Time(deadline)
		}
		return w, err
	}, `SELECT c.lead_unit_id, c.id, c.no, c.category_id, COALESCE(c.region_id, 0), substr(c.description, 1, `+strconv.Itoa(descRunes+1)+`), c.state,
			c.deadline, c.overdue, c.supervised, c.rework_count, c.ext_pending
		FROM cases c
		WHERE c.state IN ('dispatched','in_progress','postponed','verifying')
			AND (c.state IN ('dispatched','in_progress') AND (c.deadline <= ? OR c.rework_count > 0) OR c.supervised = TRUE OR c.ext_pending = TRUE) AND `+cond, args...)
	// Sorted here rather than by the database: PostgreSQL spilled the
	// sort of ~70,000 rows to disk under its default work_mem.
	sort.Slice(work, func(i, j int) bool {
		a, b := work[i], work[j]
		if a.UnitID != b.UnitID {
			return a.UnitID < b.UnitID
		}
		if !a.Deadline.Equal(b.Deadline) {
			return a.Deadline.Before(b.Deadline)
		}
		return a.ID < b.ID
	})
	return work, err
}

// Point is a case on a map: where it is and how it stands.
type Point struct {
	ID      int64   `json:"id"`
	No      string  `json:"no"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	State   State   `json:"state"`
	Warning int     `json:"warning"`
}

// MaxPoints bounds a map of cases.
const MaxPoints = 5000

// Points returns the placed cases actor may see that match f (its paging
// and order ignored), newest first, at most MaxPoints; more says there
// were more.
func (s *Service) Points(ctx context.Context, actor org.Actor, f Filter) (pts []Point, more bool, err error) {
	if err := f.Check(); err != nil {
		return nil, false, err
	}
	res, err := s.resolveFilter(ctx, actor, f)
	if err != nil {
		return nil, false, err
	}
	where, args := f.where(s.DB.Dialect, actor, res)
	pts, err = store.Collect(ctx, s.DB.Standby(ctx), func(row store.Scanner) (p Point, err error) {
		return p, row.Scan(&p.ID, &p.No, &p.Lat, &p.Lon, &p.State, &p.Warning)
	}, `SELECT c.id, c.no, c.lat, c.lon, c.state, c.warning`+res.from()+` WHERE `+where+` AND c.lat IS NOT NULL ORDER BY c.id DESC LIMIT ?`, append(args, MaxPoints+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("case points: %w", err)
	}
	if len(pts) > MaxPoints {
		return pts[:MaxPoints], true, nil
	}
	return pts, false, nil
}
