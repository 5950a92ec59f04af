package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"chuangwen/internal/workflow"
)

// figuresPeriod turns the command's days into a period: from the start of
// the first day to the end of the last (both included, as a bulletin
// names its period), in the city's zone.
func figuresPeriod(from, to string, loc *time.Location) (workflow.Period, error) {
	if from == "" || to == "" {
		return workflow.Period{}, fmt.Errorf("audit figures: --from and --to are required (days as YYYY-MM-DD, both included)")
	}
	f, err := time.ParseInLocation(time.DateOnly, from, loc)
	if err != nil {
		return workflow.Period{}, fmt.Errorf("--from %q: want a day as YYYY-MM-DD", from)
	}
	t, err := time.ParseInLocation(time.DateOnly, to, loc)
	if err != nil {
		return workflow.Period{}, fmt.Errorf("--to %q: want a day as YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return workflow.Period{}, fmt.Errorf("--to %s is before --from %s", to, from)
	}
	return workflow.Period{From: f, To: t.AddDate(0, 0, 1)}, nil
}

// cmdAuditFigures recomputes a period's unit and region figures from the
// trail and compares them with the stored ones (what the console, the
// rankings and the API show). Any difference, or any trail event the
// recomputation cannot place, is printed and ends in exit status 1: the
// figures are not to be published until it is explained.
func cmdAuditFigures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from, to string
	return withApp(ctx, "audit figures", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "first day of the period, YYYY-MM-DD in the city's zone (required)")
		fs.StringVar(&to, "to", "", "last day of the period, included (required)")
	}, func(a *app) error {
		p, err := figuresPeriod(from, to, a.loc)
		if err != nil {
			return err
		}
		check, err := a.flow.CompareFigures(ctx, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "period %s to %s (%s), dispatches dispatched from %s to %s, as known at %s\n", from, to, a.loc,
			p.From.Format("2006-01-02 15:04"), p.To.Format("2006-01-02 15:04"), time.Now().In(a.loc).Format("2006-01-02 15:04:05"))
		for _, an := range check.Anomalies {
			fmt.Fprintf(stdout, "TRAIL: %s\n", an)
		}
		if len(check.Diffs) == 0 && len(check.Anomalies) == 0 {
			fmt.Fprintf(stdout, "OK: the figures of %d units and %d regions equal their recomputation from the trail\n", check.Units, check.Regions)
			return nil
		}
		if len(check.Diffs) > 0 {
			fmt.Fprintf(stdout, "DIFFERENT: %d figures differ from the trail (of %d units and %d regions compared)\n", len(check.Diffs), check.Units, check.Regions)
			fmt.Fprintf(stdout, "%-6s  %-14s  %-20s  %-16s  %8s  %8s\n", "kind", "code", "name", "figure", "stored", "trail")
			for _, d := range check.Diffs {
				fmt.Fprintf(stdout, "%-6s  %-14s  %-20s  %-16s  %8d  %8d\n", d.Kind, d.Code, d.Name, d.Figure, d.Stored, d.Trail)
			}
		}
		return exitCode(1)
	})
}
