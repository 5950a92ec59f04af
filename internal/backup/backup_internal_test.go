package backup

import (
	"slices"
	"testing"
)

// TestPgPassword: the password leaves the command line for the
// environment; an address without one is left as it is.
func TestPgPassword(t *testing.T) {
	dsn, env := pgPassword("postgres://cw:s3cr%40t@db.example:5432/chuangwen?sslmode=require")
	if dsn != "postgres://cw@db.example:5432/chuangwen?sslmode=require" || !slices.Contains(env, "PGPASSWORD=s3cr@t") {
		t.Errorf("got %q and PGPASSWORD in env: %v", dsn, slices.Contains(env, "PGPASSWORD=s3cr@t"))
	}
	for _, in := range []string{"postgres://cw@db/chuangwen", "postgres:///chuangwen?host=/run/postgresql"} {
		if got, env := pgPassword(in); got != in || slices.ContainsFunc(env, func(e string) bool { return e == "PGPASSWORD=" }) {
			t.Errorf("%q became %q", in, got)
		}
	}
}
