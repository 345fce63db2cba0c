// Command loupe runs Loupe, a self-hosted behaviour-analytics platform: one
// binary for the server and its administration commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	_ "time/tzdata" // site time zones must load on machines without zoneinfo
)

const usage = `loupe — self-hosted heatmaps, session recordings and traffic figures

Usage:
  loupe serve [flags]                      run Loupe (loupe serve --help lists every flag)
  loupe sites add --domain HOST [...]      add a site; prints its key and snippet
  loupe tokens add --site KEY [...]        add an API token for one or more sites
  loupe import rrweb FILE --site KEY       send a saved rrweb event stream through ingest
  loupe import posthog FILE --site KEY     send a PostHog recording export through ingest
  loupe version                            print the version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "loupe:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer,
	getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("name a command")
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "serve":
		return serve(ctx, rest, stdout, stderr, getenv)
	case cmd == "sites" && len(rest) > 0 && rest[0] == "add":
		return sitesAdd(ctx, rest[1:], stdout, stderr, getenv)
	case cmd == "tokens" && len(rest) > 0 && rest[0] == "add":
		return tokensAdd(ctx, rest[1:], stdout, stderr, getenv)
	case cmd == "import" && len(rest) > 0 && (rest[0] == "rrweb" || rest[0] == "posthog"):
		return importFile(ctx, rest[0], rest[1:], stdout, stderr, getenv)
	case cmd == "import":
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("import: name the format, rrweb or posthog")
	case cmd == "version" || cmd == "--version":
		fmt.Fprintln(stdout, "loupe", version())
		return nil
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// version is the module version, or the VCS revision of a development build.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "dev", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	return rev + dirty
}

// newLogger builds the process logger: text on a terminal, JSON otherwise,
// unless the format is given.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
