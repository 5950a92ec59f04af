package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
)

const assessUsage = `Usage: chuangwen assess <command> [flags]   (docs/assessment.md)

  import-tree --file F.yaml|F.xlsx          import an indicator tree as a new draft version; last line: the edition code
  import-sites --file F.csv|F.xlsx          import or update the sites (code,name,type,region,lat,lon,address,unit,chief)
  round create --edition CODE --name NAME [--sample all|TYPE:N,...] [--seed N] [--date YYYY-MM-DD]
                                            create a round and draw its sample; last line: the round code
  round sites --round CODE                  the sampled site codes, one a line
  import-observations --round CODE --file F.csv   (site,standard,result,problems,note)
  import-results --round CODE --file F.csv        (region,standard,value)
  scores --round CODE [--region CODE] [--json]
  ledger --round CODE [--region CODE] [--json]
  raise-cases --round CODE                  file a case for every failed observation that has none
  round close --round CODE                  close a round: raise owed cases, store its figures
  check --round CODE                        recompute a closed round from its observations and values and
                                            print every difference from the figures stored when it closed;
                                            exit status 1 on any difference

An import with any problem prints each, stores nothing and exits with status 1.
Every command takes the common flags (--data, --db, ...).
`

// cmdAssess runs the assessment subcommands (测评: trees, sites, rounds,
// observations, scores and the point-loss ledger) as the system actor.
func cmdAssess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file, round, region, edition, roundName, sample, seed, date string
	var asJSON bool
	use := func(names ...string) func(fs *flag.FlagSet) {
		return func(fs *flag.FlagSet) {
			for _, n := range names {
				switch n {
				case "file":
					fs.StringVar(&file, "file", "", "the file to import (required)")
				case "round":
					fs.StringVar(&round, "round", "", "round code (required)")
				case "region":
					fs.StringVar(&region, "region", "", "district, street or community code (default: the city)")
				case "json":
					fs.BoolVar(&asJSON, "json", false, "print the JSON document")
				case "edition":
					fs.StringVar(&edition, "edition", "", "edition code: the round takes its latest version (required)")
				case "name":
					fs.StringVar(&roundName, "name", "", "the round's name (required)")
				case "sample":
					fs.StringVar(&sample, "sample", "all", "all, or TYPE:N,... (N sites of each type in every district)")
				case "seed":
					fs.StringVar(&seed, "seed", "", "the draw's seed, 0 to 18446744073709551615 (default: random, printed)")
				case "date":
					fs.StringVar(&date, "date", "", "inspection date YYYY-MM-DD (default: today in --tz)")
				}
			}
		}
	}
	// onRound: a command that takes --round (and the flags named) and
	// needs it.
	onRound := func(run func(svc *assess.Service) error, flags ...string) subcommand[*assess.Service] {
		return subcommand[*assess.Service]{flags: use(append([]string{"round"}, flags...)...), required: []string{"round"}, run: run}
	}
	var sub string
	lookup := func(name string) (subcommand[*assess.Service], bool) {
		sub = name
		switch sub {
		case "import-tree":
			return subcommand[*assess.Service]{flags: use("file"), required: []string{"file"}, run: func(svc *assess.Service) error {
				format := assess.FormatOf(file)
				if format != assess.FormatYAML && format != assess.FormatXLSX {
					return fmt.Errorf("--file %s: want a .yaml, .yml or .xlsx file", file)
				}
				var info assess.EditionInfo
				err := importFile(file, stderr, func(r io.Reader) ([]assess.Problem, error) {
					var problems []assess.Problem
					var err error
					info, problems, err = svc.ImportTree(ctx, org.System, r, format)
					return problems, err
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "edition %s version %d (%s) imported: %s\n%s\n", info.Code, info.Version, info.Status, info.Name, info.Code)
				return nil
			}}, true
		case "import-sites":
			return subcommand[*assess.Service]{flags: use("file"), required: []string{"file"}, run: func(svc *assess.Service) error {
				format := assess.FormatOf(file)
				if format != assess.FormatCSV && format != assess.FormatXLSX {
					return fmt.Errorf("--file %s: want a .csv or .xlsx file", file)
				}
				var rep assess.ImportReport
				err := importFile(file, stderr, func(r io.Reader) ([]assess.Problem, error) {
					var problems []assess.Problem
					var err error
					rep, problems, err = svc.ImportSites(ctx, org.System, r, format)
					return problems, err
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "sites imported: %d rows, %d new, %d updated\n", rep.Rows, rep.Created, rep.Updated)
				return nil
			}}, true
		case "round create":
			return subcommand[*assess.Service]{flags: use("edition", "name", "sample", "seed", "date"), required: []string{"edition", "name"}, run: func(svc *assess.Service) error {
				in := assess.NewRound{Edition: edition, Name: roundName, Plan: sample, Date: date}
				if seed != "" {
					n, err := strconv.ParseUint(strings.TrimSpace(seed), 10, 64)
					if err != nil {
						return fmt.Errorf("--seed %q: want a whole number from 0 to 18446744073709551615", seed)
					}
					in.Seed = &n
				}
				rd, err := svc.CreateRound(ctx, org.System, in)
				if err != nil {
					return explain(err)
				}
				fmt.Fprintf(stdout, "round %s created: %s; edition %s version %d; inspection date %s; plan %s; seed %d; %d sites drawn\n%s\n",
					rd.Code, rd.Name, rd.Edition, rd.EditionVersion, rd.Date, rd.Plan, rd.Seed, rd.Sites, rd.Code)
				return nil
			}}, true
		case "round sites":
			return onRound(func(svc *assess.Service) error {
				sites, err := svc.RoundSites(ctx, org.System, round)
				if err != nil {
					return explain(err)
				}
				var b strings.Builder
				for _, s := range sites {
					b.WriteString(s.Code + "\n")
				}
				_, err = io.WriteString(stdout, b.String())
				return err
			}), true
		case "import-observations", "import-results":
			c := onRound(func(svc *assess.Service) error {
				if assess.FormatOf(file) != assess.FormatCSV {
					return fmt.Errorf("--file %s: want a .csv file", file)
				}
				var rep assess.ImportReport
				err := importFile(file, stderr, func(r io.Reader) ([]assess.Problem, error) {
					var problems []assess.Problem
					var err error
					if sub == "import-observations" {
						rep, problems, err = svc.ImportObservations(ctx, org.System, round, r)
					} else {
						rep, problems, err = svc.ImportResults(ctx, org.System, round, r)
					}
					return problems, err
				})
				if err != nil {
					return err
				}
				what := "observations"
				if sub == "import-results" {
					what = "values"
				}
				fmt.Fprintf(stdout, "%s of round %s imported: %d rows, %d new, %d replaced\n", what, round, rep.Rows, rep.Created, rep.Updated)
				return nil
			}, "file")
			c.required = append(c.required, "file")
			return c, true
		case "scores":
			return onRound(func(svc *assess.Service) error {
				sc, err := svc.Scores(ctx, org.System, round, region)
				if err != nil {
					return explain(err)
				}
				if asJSON {
					return printJSON(stdout, sc.Doc())
				}
				return printScores(stdout, sc)
			}, "region", "json"), true
		case "ledger":
			return onRound(func(svc *assess.Service) error {
				l, err := svc.Ledger(ctx, org.System, round, region)
				if err != nil {
					return explain(err)
				}
				if asJSON {
					return printJSON(stdout, l.Doc(round))
				}
				return printLedger(stdout, round, l)
			}, "region", "json"), true
		case "raise-cases":
			return onRound(func(svc *assess.Service) error {
				rep, err := svc.RaiseCases(ctx, org.System, round)
				if err != nil {
					return explain(err)
				}
				fmt.Fprintf(stdout, "round %s: %d cases raised, %d failed observations without a category\n", round, rep.Raised, rep.NoCategory)
				return nil
			}), true
		case "round close":
			return onRound(func(svc *assess.Service) error {
				rd, err := svc.CloseRound(ctx, org.System, round)
				if err != nil {
					return explain(err)
				}
				fmt.Fprintf(stdout, "round %s closed\n", rd.Code)
				return nil
			}), true
		case "check":
			return onRound(func(svc *assess.Service) error {
				diffs, err := svc.CheckRound(ctx, org.System, round)
				if err != nil {
					return explain(err)
				}
				for _, d := range diffs {
					fmt.Fprintf(stdout, "scope %s, %s:\n  stored     %s\n  recomputed %s\n", d.Scope, d.Document, d.Stored, d.Recomputed)
				}
				return differences(stdout, "round "+round, len(diffs), "the recomputed figures equal the stored ones")
			}), true
		}
		return subcommand[*assess.Service]{}, false
	}
	return runGroup(ctx, "assess", assessUsage, []string{"round"}, args, stdout, stderr, (*app).assessService, lookup)
}

// differences ends a check: "what: N differences" and exit status 1, or
// the all-clear line.
func differences(stdout io.Writer, what string, n int, clear string) error {
	if n > 0 {
		fmt.Fprintf(stdout, "%s: %d differences\n", what, n)
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "%s: %s\n", what, clear)
	return nil
}

// importFile opens a file and runs an import on it; each problem is
// printed (in English, placed by row and column or YAML path and line)
// and makes the command fail.
func importFile(path string, stderr io.Writer, run func(r io.Reader) ([]assess.Problem, error)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	problems, err := run(f)
	if len(problems) > 0 {
		var b strings.Builder
		for _, p := range problems {
			b.WriteString(path + ": " + p.Error() + "\n")
		}
		io.WriteString(stderr, b.String())
	}
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Key == "assess.import_problems" {
			noun := "problems"
			if e.Args[1] == "1" {
				noun = "problem"
			}
			return fmt.Errorf("%s: %s %s; nothing was imported", path, e.Args[1], noun)
		}
		return explain(err)
	}
	return nil
}

// printJSON prints a document as encoding/json writes it, on one line.
func printJSON(w io.Writer, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func points(s assess.Scores) string {
	return assess.RoundJSON(s.Score, assess.PointPlaces) + " of " + assess.RoundJSON(s.Max, assess.PointPlaces)
}

func rateText(r assess.JSONRate) string {
	b, _ := r.MarshalJSON()
	return string(b)
}

func printScores(w io.Writer, sc assess.RoundScores) error {
	var b strings.Builder
	s := sc.Scores
	fmt.Fprintf(&b, "round %s, scope %s: %s points, rate %s", sc.Round, s.Scope.Code, points(s), rateText(assess.JSONRate{Rat: s.Rate}))
	if s.Vetoed {
		fmt.Fprintf(&b, ", VETOED by %s", strings.Join(s.Vetoes, ", "))
	}
	b.WriteString("\n")
	for _, p := range s.Projects {
		fmt.Fprintf(&b, "%-10s %8s %8s %8s  %s\n", p.Code, assess.RoundJSON(p.Score, 2), assess.RoundJSON(p.Max, 2), rateText(assess.JSONRate{Rat: p.Rate}), p.Name)
		for _, c := range p.Contents {
			fmt.Fprintf(&b, "  %-8s %8s %8s %8s  %s\n", c.Code, assess.RoundJSON(c.Score, 2), assess.RoundJSON(c.Max, 2), rateText(assess.JSONRate{Rat: c.Rate}), c.Name)
			for _, l := range c.Standards {
				if !l.Assessed {
					fmt.Fprintf(&b, "    %-6s %8s %8s %8s  %s\n", l.Code, "-", "-", "", l.Name)
					continue
				}
				fmt.Fprintf(&b, "    %-6s %8s %8s %8s  %s\n", l.Code, assess.RoundJSON(l.Score, 2), assess.RoundJSON(l.Max, 2), "", l.Name)
			}
		}
	}
	if len(sc.Districts) > 0 {
		b.WriteString("districts:\n")
		for _, d := range sc.Districts {
			veto := ""
			if d.Vetoed {
				veto = "  VETOED"
			}
			fmt.Fprintf(&b, "  %-8s %8s %8s %8s%s\n", d.Scope.Code, assess.RoundJSON(d.Score, 2), assess.RoundJSON(d.Max, 2), rateText(assess.JSONRate{Rat: d.Rate}), veto)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func printLedger(w io.Writer, round string, l assess.Ledger) error {
	var b strings.Builder
	fmt.Fprintf(&b, "round %s, scope %s: %s points lost\n", round, l.Scope.Code, assess.RoundJSON(l.Lost, assess.PointPlaces))
	fmt.Fprintf(&b, "%-12s %8s %6s\n", "unit", "lost", "items")
	for _, u := range l.Units {
		fmt.Fprintf(&b, "%-12s %8s %6d\n", u.Code, assess.RoundJSON(u.Lost, assess.PointPlaces), u.Items)
	}
	fmt.Fprintf(&b, "%-12s %8s\n", "unattributed", assess.RoundJSON(l.Unattributed, assess.PointPlaces))
	_, err := io.WriteString(w, b.String())
	return err
}

// assessService is the assessment service of the app: its failed
// observations raise cases through the app's workflow service.
func (a *app) assessService() *assess.Service {
	return &assess.Service{DB: a.db, Location: a.loc, Locator: a.grid, Cases: a.flow, Blobs: a.flow.Photos.Blobs}
}
