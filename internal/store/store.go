// Package store opens the embedded SQLite database or a PostgreSQL server,
// applies the embedded migrations, and hides the few differences between
// the two SQL dialects so that every query in the domain packages is
// written once.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver ("pgx")
	_ "modernc.org/sqlite"             // pure-Go SQLite driver ("sqlite")
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a handle on one database. With SQLite, writes go through a single
// connection (SQLite admits one writer at a time; queueing in Go is cheaper
// than spinning on SQLITE_BUSY) and reads through a pool; with PostgreSQL
// both are the same pool.
type DB struct {
	Dialect Dialect
	w       *sql.DB
	r       *sql.DB

	// stmts caches prepared statements on the SQLite writer connection.
	// The pure-Go driver parses a statement on every call otherwise, and
	// parsing is most of the cost of a short write; pgx caches prepared
	// statements by itself.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
	// rstmts caches prepared statements on SQLite's read pool, by the
	// same rules; database/sql prepares each on a connection the first
	// time it runs there.
	rstmtMu sync.RWMutex
	rstmts  map[string]*sql.Stmt
	rseen   map[string]bool // seen once, not prepared yet

	// standby, when set, takes the reads that may lag the primary a little
	// (standby.go) until standbyUntil (unix ns), set by its last check.
	standby      *sql.DB
	standbyUntil atomic.Int64

	// group is the group commit's queue (Grouped).
	group group

	// ckpt is SQLite's background checkpointer's connection (see
	// checkpointer); ckptStop ends it, ckptDone closes when it has.
	ckpt     *sql.DB
	ckptStop chan struct{}
	ckptDone chan struct{}

	// Plans, when set, receives the plan of every read on the read pool
	// before it runs (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
	// PostgreSQL): the tests that pin the hot pages' plans set it.
	Plans func(query, plan string)
}

// Statements longer than this or beyond this many are not cached: they
// are generated (bulk inserts, IN lists) and would not be seen again.
const (
	maxCachedStmtLen = 2048
	maxCachedStmts   = 512
)

// stmt returns the cached prepared statement for q on the SQLite writer,
// or nil when there is none yet. It never prepares: inside a transaction
// the writer's only connection is taken, so preparing would wait forever.
// Instead it notes q, and WithTx prepares the noted statements once the
// transaction has given the connection back.
func (db *DB) stmt(q string) *sql.Stmt {
	if db.Dialect != SQLite || len(q) > maxCachedStmtLen {
		return nil
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if st, ok := db.stmts[q]; ok {
		return st
	}
	if len(db.stmts)+len(db.wanted) < maxCachedStmts {
		if db.wanted == nil {
			db.wanted = map[string]bool{}
		}
		db.wanted[q] = true
	}
	return nil
}

// prepareWanted prepares the statements noted by stmt. It holds no lock
// while preparing: preparing waits for the writer connection, which a
// transaction in another goroutine may hold while it asks stmt for a
// statement.
func (db *DB) prepareWanted(ctx context.Context) {
	db.stmtMu.Lock()
	var qs []string
	for q := range db.wanted {
		qs = append(qs, q)
	}
	db.wanted = nil
	db.stmtMu.Unlock()
	for _, q := range qs {
		st, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		db.stmtMu.Lock()
		if _, dup := db.stmts[q]; dup {
			st.Close()
		} else {
			if db.stmts == nil {
				db.stmts = map[string]*sql.Stmt{}
			}
			db.stmts[q] = st
		}
		db.stmtMu.Unlock()
	}
}

// readStmt returns a prepared statement for q on SQLite's read pool,
// preparing it the second time q runs, or nil when q is not cached (PostgreSQL,
// generated statements, a full cache, or a statement that does not
// prepare, whose error the plain query then reports).
func (db *DB) readStmt(ctx context.Context, q string) *sql.Stmt {
	if db.Dialect != SQLite || len(q) > maxCachedStmtLen {
		return nil
	}
	db.rstmtMu.RLock()
	st, ok := db.rstmts[q]
	full := len(db.rstmts) >= maxCachedStmts
	db.rstmtMu.RUnlock()
	if ok || full {
		return st
	}
	// Prepared on its second run only: statements with their values
	// written into the text (id lists) run once and would fill the cache.
	db.rstmtMu.Lock()
	again := db.rseen[q]
	if !again {
		if db.rseen == nil || len(db.rseen) >= 4*maxCachedStmts {
			db.rseen = map[string]bool{}
		}
		db.rseen[q] = true
	}
	db.rstmtMu.Unlock()
	if !again {
		return nil
	}
	st, err := db.r.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	db.rstmtMu.Lock()
	defer db.rstmtMu.Unlock()
	if old, dup := db.rstmts[q]; dup {
		st.Close()
		return old
	}
	if db.rstmts == nil {
		db.rstmts = map[string]*sql.Stmt{}
	}
	db.rstmts[q] = st
	return st
}

// IsPostgres reports whether dsn names a PostgreSQL server.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens dsn: a postgres:// URL, or otherwise a path to a SQLite file
// (created with its folder if missing). Durability: SQLite runs in WAL mode
// with synchronous=FULL, so an acknowledged commit survives a power cut;
// PostgreSQL is asked for synchronous_commit=on for the same reason.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// readerConns is the size of SQLite's reader pool.
const readerConns = 8

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	// The writer keeps its temporary files in memory (temp_store=2): the
	// intake's group commit puts each submission under a savepoint, whose
	// sub-journal otherwise went to a temporary file page by page (a
	// quarter of the intake's time in pwrite). Intake without photos:
	// 899–912 → 1,140–1,185 reports/s. It also keeps a 64 MB page cache
	// (2 MB by default): the search index's segment merges re-read the
	// same pages, and with the default cache read them from the file
	// each time; filing at 100,000–150,000 cases went from 362 to 938
	// reports/s (docs/benchmarks.md).
	//
	// The writer does not copy the WAL back into the database itself
	// after every thousand pages, as SQLite does by default, in the middle
	// of someone's commit: a checkpointer of its own does it in the
	// background (checkpointer below), on the other core. The writer
	// still checkpoints when the WAL passes walLimitPages, which bounds
	// the WAL if the checkpointer falls behind; then there is little left
	// for it to copy. (A case's transition dirties about 35 pages of its
	// indexes; the copy had been a fifth of its commit.) The WAL file
	// keeps the largest size it reached, at most about walLimitPages:
	// cutting it back after each complete checkpoint (journal_size_limit)
	// cost a sixth of the transitions' rate.
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=temp_store(2)&_pragma=cache_size(-65536)"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walLimitPages)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(readerConns)
	r.SetMaxIdleConns(readerConns)
	r.SetConnMaxLifetime(readerLifetime)
	db := &DB{Dialect: SQLite, w: w, r: r}
	if err := w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	c, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	c.SetMaxOpenConns(1)
	db.ckpt, db.ckptStop, db.ckptDone = c, make(chan struct{}), make(chan struct{})
	go db.checkpointer(checkpointEvery)
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	// Each connection's settings, unless the address sets them:
	// synchronous_commit on; no parallel workers for a query, since the
	// program's queries are short and many run at once, and on a small
	// server the workers only compete with the other requests (measured
	// at a million cases on 2 cores: the leader's screen p95 157 → 85 ms,
	// the acceptor's counters p50 29 → 16 ms; docs/benchmarks.md). A
	// server with cores to spare sets max_parallel_workers_per_gather in
	// the address. No JIT either: the planner's cost of a search that
	// walks the cases (millions, for a filter it cannot estimate) made it
	// compile the query, 60 ms to save nothing on a 2 ms walk.
	p, err := openPool(dsn)
	if err == nil {
		if err = p.PingContext(ctx); err != nil {
			p.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{Dialect: Postgres, w: p, r: p}, nil
}

// withParam adds param ("name=value") to a PostgreSQL URL unless the URL
// already sets that name.
func withParam(dsn, param string) string {
	name, _, _ := strings.Cut(param, "=")
	if strings.Contains(dsn, name) {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + param
}

// openPool opens a pool of PostgreSQL connections with the program's
// settings (openPostgres); it connects on first use.
func openPool(dsn string) (*sql.DB, error) {
	for _, param := range []string{"synchronous_commit=on", "max_parallel_workers_per_gather=0", "jit=off"} {
		dsn = withParam(dsn, param)
	}
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(16)
	p.SetMaxIdleConns(16)
	p.SetConnMaxIdleTime(5 * time.Minute)
	return p, nil
}

// walLimitPages is the WAL's size (in 4 KB pages) at which the SQLite
// writer checkpoints by itself; checkpointEvery how often the background
// checkpointer copies the WAL into the database.
const (
	walLimitPages   = 20000
	checkpointEvery = 100 * time.Millisecond
)

// checkpointer copies committed WAL frames into the database file every
// interval (a PASSIVE checkpoint: it never waits for, nor holds up, the
// writer or the readers) until Close.
func (db *DB) checkpointer(every time.Duration) {
	defer close(db.ckptDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-db.ckptStop:
			return
		case <-t.C:
			// A failure (the database busy in a way PASSIVE does not
			// wait for) leaves the frames for the next round or the
			// writer's own checkpoint.
			_, _ = db.ckpt.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.ckpt != nil {
		close(db.ckptStop)
		<-db.ckptDone
		db.ckpt.Close()
		db.ckpt = nil
	}
	db.stmtMu.Lock()
	for _, st := range db.stmts {
		st.Close()
	}
	db.stmts = nil
	db.stmtMu.Unlock()
	db.rstmtMu.Lock()
	for _, st := range db.rstmts {
		st.Close()
	}
	db.rstmts = nil
	db.rstmtMu.Unlock()
	err := db.w.Close()
	if db.standby != nil {
		db.standby.Close()
	}
	if db.r != db.w {
		if e := db.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

// Rebind turns the ? placeholders of a query into $1, $2, ... for
// PostgreSQL. Question marks inside string literals are left alone.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres {
		return q
	}
	return rebind(q)
}

func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Queryer reads: both the read pool (*DB.Reader) and a write transaction
// (*Tx) offer it, so that read code runs inside or outside a transaction.
// Writes need a *Tx (DB.WithTx) or DB.Exec: never the read pool, whose
// SQLite connections are query-only.
type Queryer interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *Row
	Dialect() Dialect
}

// Reader returns a Queryer over the read pool.
func (db *DB) Reader() Queryer { return reader{db} }

type reader struct{ db *DB }

func (r reader) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := checkText(args); err != nil {
		return nil, err
	}
	r.explain(ctx, q, args)
	if st := r.db.readStmt(ctx, q); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, queryError(q, err)
	}
	rows, err := r.db.r.QueryContext(ctx, r.db.Rebind(q), args...)
	return rows, queryError(q, err)
}
func (r reader) QueryRow(ctx context.Context, q string, args ...any) *Row {
	if err := checkText(args); err != nil {
		return &Row{q: q, err: err}
	}
	r.explain(ctx, q, args)
	if st := r.db.readStmt(ctx, q); st != nil {
		return &Row{row: st.QueryRowContext(ctx, args...), q: q}
	}
	return &Row{row: r.db.r.QueryRowContext(ctx, r.db.Rebind(q), args...), q: q}
}

// explain hands the plan of q to db.Plans, when set.
func (r reader) explain(ctx context.Context, q string, args []any) {
	if r.db.Plans == nil {
		return
	}
	prefix, col := "EXPLAIN QUERY PLAN ", 3 // id, parent, notused, detail
	if r.db.Dialect == Postgres {
		prefix, col = "EXPLAIN ", 0
	}
	rows, err := r.db.r.QueryContext(ctx, r.db.Rebind(prefix+q), args...)
	if err != nil {
		r.db.Plans(q, "explain failed: "+err.Error())
		return
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		vals := make([]any, col+1)
		ptrs := make([]any, col+1)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			break
		}
		lines = append(lines, fmt.Sprint(vals[col]))
	}
	r.db.Plans(q, strings.Join(lines, "\n"))
}
func (r reader) Dialect() Dialect { return r.db.Dialect }

// Exec runs one write statement on the writer, in a transaction of its
// own: for single-statement writes (a session's last-seen time) and
// maintenance (ANALYZE, bench tables).
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := checkText(args); err != nil {
		return nil, err
	}
	res, err := db.w.ExecContext(ctx, db.Rebind(q), args...)
	return res, queryError(q, err)
}

// Change is Tx.Change in a transaction of its own.
func (db *DB) Change(ctx context.Context, none error, q string, args ...any) error {
	res, err := db.Exec(ctx, q, args...)
	return changed(res, err, none)
}

// Tx is a write transaction.
type Tx struct {
	db *DB
	// SQLite: a database/sql transaction on the one writer connection.
	tx *sql.Tx
	// PostgreSQL: the transaction's connection, BEGIN and COMMIT sent on
	// it by WithTx, and the writes Defer holds for the next round trip
	// (pgtx.go).
	conn     *sql.Conn
	deferred []deferredWrite
	// failed: a batch of held writes failed; every later statement and
	// the commit answer it (the writes may never have reached the
	// server, which then would not have aborted the transaction itself).
	failed error
	after  []func()
	late   []func() error
}

// sqlRunner is what a transaction runs its statements on (*sql.Tx or
// *sql.Conn).
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (t *Tx) runner() sqlRunner {
	if t.conn != nil {
		return t.conn
	}
	return t.tx
}

// AfterCommit runs fn once the transaction has committed (never if it
// rolls back): for nudging workers about rows they can only see then.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// Late runs fn in the transaction at its end, just before the commit, in
// the order given; its error rolls the transaction back. For writes that
// cost more inside a savepoint than after it: SQLite's FTS5 writes its
// pending terms out as a new index segment whenever a savepoint opens, so
// the intake's group commit (a savepoint per submission) made one segment
// per report, and merging them came to dominate the intake as the index
// grew (docs/benchmarks.md). A late write's failure fails the whole
// transaction, every savepoint's work included (a group commit's pieces,
// Grouped: only a fault of the database can fail one).
func (t *Tx) Late(fn func() error) { t.late = append(t.late, fn) }

// Exec runs a write statement in the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := checkText(args); err != nil {
		return nil, err
	}
	if len(t.deferred) > 0 || t.failed != nil {
		// the held writes and this one in one round trip
		return t.flush(ctx, q, args)
	}
	var res sql.Result
	var err error
	if st := t.db.stmt(q); st != nil {
		res, err = t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		res, err = t.runner().ExecContext(ctx, t.db.Rebind(q), args...)
	}
	return res, queryError(q, err)
}

// Change runs a statement meant to change at least one row and answers
// none when it changed none: the row is missing, or not in the state the
// statement's WHERE asks for.
func (t *Tx) Change(ctx context.Context, none error, q string, args ...any) error {
	res, err := t.Exec(ctx, q, args...)
	return changed(res, err, none)
}

func changed(res sql.Result, err, none error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return none
	}
	return nil
}

// Query runs a query in the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := checkText(args); err != nil {
		return nil, err
	}
	if _, err := t.flush(ctx, "", nil); err != nil {
		return nil, err
	}
	var rows *sql.Rows
	var err error
	if st := t.db.stmt(q); st != nil {
		rows, err = t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = t.runner().QueryContext(ctx, t.db.Rebind(q), args...)
	}
	return rows, queryError(q, err)
}

// QueryRow runs a query for one row in the transaction.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *Row {
	if err := checkText(args); err != nil {
		return &Row{q: q, err: err}
	}
	if _, err := t.flush(ctx, "", nil); err != nil {
		return &Row{q: q, err: err}
	}
	if st := t.db.stmt(q); st != nil {
		return &Row{row: t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...), q: q}
	}
	return &Row{row: t.runner().QueryRowContext(ctx, t.db.Rebind(q), args...), q: q}
}
func (t *Tx) Dialect() Dialect { return t.db.Dialect }

// InsertID runs an INSERT ... RETURNING id in tx and returns the id.
func InsertID(ctx context.Context, q *Tx, query string, args ...any) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// WithTx runs fn in a write transaction and commits it if fn returns nil.
// With SQLite the transaction begins IMMEDIATE, so it holds the write lock
// from the start and two writers never deadlock on a lock upgrade.
func (db *DB) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.Dialect == Postgres {
		return db.withConnTx(ctx, fn)
	}
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A panic in fn must not leave the one writer connection inside an
	// open transaction (the context may never end: the group commit's).
	done := false
	defer func() {
		if !done {
			_ = sqlTx.Rollback()
		}
	}()
	tx := &Tx{db: db, tx: sqlTx}
	err = fn(tx)
	for i := 0; err == nil && i < len(tx.late); i++ {
		err = tx.late[i]()
	}
	if err != nil {
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, fn := range tx.after {
		fn()
	}
	if db.Dialect == SQLite {
		db.stmtMu.Lock()
		n := len(db.wanted)
		db.stmtMu.Unlock()
		if n > 0 {
			db.prepareWanted(ctx)
		}
	}
	return nil
}

// In returns "(?,?,?)" for n placeholders, for IN lists.
func In(n int) string {
	if n <= 0 {
		return "(NULL)"
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}

// Ms converts a time to the unix milliseconds stored in the database; the
// zero time is stored as 0 ("not set").
func Ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Time converts stored unix milliseconds back to a UTC time.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Int64s runs a query that returns one integer column (ids, mostly).
func Int64s(ctx context.Context, q Queryer, query string, args ...any) ([]int64, error) {
	return Collect(ctx, q, func(r Scanner) (v int64, err error) { return v, r.Scan(&v) }, query, args...)
}

// Exists reports whether table has a row with the id.
func Exists(ctx context.Context, q Queryer, table string, id int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE id = ?`, id).Scan(&n)
	return n > 0, err
}
