package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// subcommand is one command of a group (assess, report): the flags it
// adds to the common ones, those of them that must be given, and its body,
// run on the group's service once the database is open.
type subcommand[S any] struct {
	flags    func(fs *flag.FlagSet)
	required []string
	run      func(svc S) error
}

// runGroup runs "chuangwen <group> <sub> [flags]": help, the words that
// name a two-word subcommand (assess "round create"), the subcommand's
// flags with the common ones, its required flags, then its body on the
// service the app builds.
func runGroup[S any](ctx context.Context, group, usage string, twoWord []string, args []string, stdout, stderr io.Writer,
	service func(a *app) S, lookup func(sub string) (subcommand[S], bool)) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	sub, rest := args[0], args[1:]
	for _, w := range twoWord {
		if sub == w && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			sub, rest = sub+" "+rest[0], rest[1:]
		}
	}
	cmd, ok := lookup(sub)
	if !ok {
		return fmt.Errorf("unknown command \"%s %s\"\n\n%s", group, sub, strings.TrimSpace(usage))
	}
	name := group + " " + sub
	var fs *flag.FlagSet
	extra := func(f *flag.FlagSet) {
		fs = f
		if cmd.flags != nil {
			cmd.flags(f)
		}
	}
	return withApp(ctx, name, rest, stderr, extra, func(a *app) error {
		for _, n := range cmd.required {
			if strings.TrimSpace(fs.Lookup(n).Value.String()) == "" {
				return fmt.Errorf("%s: --%s is required", name, n)
			}
		}
		return cmd.run(service(a))
	})
}
