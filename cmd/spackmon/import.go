package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spackmon/spackmon/pkg/monitorclient"
	"github.com/spackmon/spackmon/pkg/version"
)

// defaultMonitorURL is where spackmon serve listens unless told otherwise.
const defaultMonitorURL = "http://127.0.0.1:8080"

var errImportUsage = errors.New("usage: spackmon import FILE... --spack-version V [--url U]")

// runImport loads spec documents through the HTTP protocol, as any client would, so that
// it works against any Spack Monitor server and goes through its auth and validation.
func runImport(ctx context.Context, args []string) error {
	return importCommand(ctx, os.Stdout, os.Stderr, os.Getenv, args)
}

func importCommand(ctx context.Context, out, errOut io.Writer, getenv func(string) string, args []string) error {
	fs := flag.NewFlagSet("spackmon import", flag.ContinueOnError)
	url := fs.String("url", defaultMonitorURL, "the server")
	spackVersion := fs.String("spack-version", "", "the Spack version the specs were concretized with (required)")
	files, err := parseArgs(fs, args, out, func(w io.Writer) { clientHelp(w, fs, errImportUsage) })
	switch {
	case err != nil:
		return err
	case len(files) == 0:
		return fmt.Errorf("no spec files given; %w", errImportUsage)
	case *spackVersion == "":
		return fmt.Errorf("--spack-version is missing: the Spack version the specs were concretized with, for example 0.17.2; %w", errImportUsage)
	}
	c, err := newCommandClient(*url, getenv)
	if err != nil {
		return err
	}
	failed := 0
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		created, spec, err := importFile(ctx, c, name, *spackVersion)
		if err != nil {
			failed++
			fmt.Fprintf(errOut, "%s: %v\n", name, err)
			continue
		}
		state := "exists"
		if created {
			state = "created"
		}
		fmt.Fprintf(out, "%s  %s  %s  %s v%s %s\n", name, *spackVersion, state, spec.Name, spec.Version, spec.FullHash)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return nil
}

func importFile(ctx context.Context, c *monitorclient.Client, name, spackVersion string) (bool, monitorclient.Spec, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return false, monitorclient.Spec{}, err
	}
	// Checked here so that a broken file reads as one, not as the server's 400.
	if !json.Valid(data) {
		return false, monitorclient.Spec{}, errors.New("not a JSON document")
	}
	return c.NewSpec(ctx, data, spackVersion)
}

// newCommandClient makes the client of the import and upload commands. The credentials
// are Spack's own variables, so a shell set up for spack install --monitor works as it is.
func newCommandClient(url string, getenv func(string) string) (*monitorclient.Client, error) {
	return monitorclient.New(url, getenv("SPACKMON_USER"), getenv("SPACKMON_TOKEN"), monitorclient.Options{
		UserAgent: "spackmon/" + version.String(),
		// Per request: a phase log may be large, but a silent server must not hang the command.
		Timeout: 5 * time.Minute,
	})
}

// clientHelp is the help of a command that talks to a server.
func clientHelp(w io.Writer, fs *flag.FlagSet, usage error) {
	fmt.Fprintln(w, usage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nThe credentials are Spack's: SPACKMON_USER and SPACKMON_TOKEN (the API token 'spackmon user add' printed).")
}
