package main

import (
	"context"
	"flag"
	"io"

	"loupe.dev/loupe/internal/config"
	"loupe.dev/loupe/internal/server"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer,
	getenv func(string) string) error {
	fs := flag.NewFlagSet("loupe serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	finish := config.Flags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := finish()
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	return server.Run(ctx, cfg, logger, version(), nil)
}
