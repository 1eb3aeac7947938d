// Command spackmon-conformance checks a Spack Monitor server against PROTOCOL.md, rule by
// rule, over HTTP only. Run it from the repository with
//
//	go run ./conformance --url http://127.0.0.1:8080
//
// with SPACKMON_USER and SPACKMON_TOKEN set (see README.md). It exits 1 when a check
// failed, 2 when it could not run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spackmon/spackmon/conformance/suite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: the tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("spackmon-conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := suite.Config{}
	fs.StringVar(&cfg.URL, "url", envOr("SPACKMON_URL", ""), "base URL of the server (env SPACKMON_URL)")
	fs.StringVar(&cfg.Prefix, "prefix", envOr("SPACKMON_API_PREFIX", "ms1"), "prefix of the protocol routes (env SPACKMON_API_PREFIX)")
	fs.StringVar(&cfg.User, "user", os.Getenv("SPACKMON_USER"), "user name (env SPACKMON_USER)")
	fs.StringVar(&cfg.Token, "token", os.Getenv("SPACKMON_TOKEN"), "the user's API token (env SPACKMON_TOKEN; prefer the env: flags show in ps)")
	fs.StringVar(&cfg.User2, "user2", os.Getenv("SPACKMON_USER2"), "a second user, for the ownership checks (env SPACKMON_USER2)")
	fs.StringVar(&cfg.Token2, "token2", os.Getenv("SPACKMON_TOKEN2"), "the second user's API token (env SPACKMON_TOKEN2)")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", 0, "the server's body limit, to check the 413 (0: skip that check)")
	fs.StringVar(&cfg.SpackVersion, "spack-version", "0.18.0.dev0", "spack_version of every posted document")
	fs.StringVar(&cfg.RunID, "run-id", "", "makes this run's spec names and hashes unique (default random)")
	fs.DurationVar(&cfg.Timeout, "timeout", time.Minute, "timeout of each request")
	junit := fs.String("junit", "", "write JUnit XML results to this file")
	transcripts := fs.String("transcripts", "", "write request/response transcripts of failed checks (credentials redacted) to this directory")
	verbose := fs.Bool("v", false, "print each check as it finishes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cfg.URL == "" || cfg.User == "" || cfg.Token == "" {
		fmt.Fprintln(stderr, "spackmon-conformance: --url, and SPACKMON_USER and SPACKMON_TOKEN (or --user, --token) are required")
		return 2
	}
	if *verbose {
		cfg.Log = stderr
	}
	if cfg.RunID == "" {
		cfg.RunID = suite.NewRunID()
	}
	tree := suite.Run(ctx, cfg)
	if *transcripts != "" {
		if err := tree.WriteTranscripts(*transcripts); err != nil {
			fmt.Fprintf(stderr, "spackmon-conformance: transcripts: %v\n", err)
			return 2
		}
	}
	if *junit != "" {
		if err := writeJUnit(tree, *junit); err != nil {
			fmt.Fprintf(stderr, "spackmon-conformance: junit: %v\n", err)
			return 2
		}
	}
	if err := tree.WriteTree(stdout); err != nil {
		return 2
	}
	writeHints(stderr, tree, cfg)
	if _, failed, _ := tree.Counts(); failed > 0 {
		return 1
	}
	return 0
}

// writeHints tells, after the results, how to run what was skipped for want of
// configuration, and what the run left in the server.
func writeHints(w io.Writer, tree *suite.Node, cfg suite.Config) {
	if n := tree.SkippedFor(suite.SkipNoUser2); n > 0 {
		fmt.Fprintf(w, "%d ownership checks were skipped: to run them, set SPACKMON_USER2 and SPACKMON_TOKEN2 to a second user's name and API token (spackmon user add bob).\n", n)
	}
	if n := tree.SkippedFor(suite.SkipNoBodyLimit); n > 0 {
		fmt.Fprintf(w, "%d body-limit check was skipped: to run it, pass --max-body-bytes with the server's limit (spackmon's SPACKMON_MAX_BODY_BYTES, 268435456 unless set); it posts that many bytes and one more.\n", n)
	}
	fmt.Fprintf(w, "This run left its data in %s: specs named conf-%s-*, builds on the host conf-%s-host, their phases and analyzer results. Nothing is cleaned up.\n", cfg.URL, cfg.RunID, cfg.RunID)
}

func writeJUnit(tree *suite.Node, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := tree.WriteJUnit(f, "spackmon-conformance"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
