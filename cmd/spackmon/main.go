// Command spackmon runs the Spack Monitor service: every role in one process (serve), or
// one role per process (auth, ingest, analysis, gateway) for separately scaled deployments,
// plus the administrative commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/spackmon/spackmon/pkg/version"
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
	// config is the role's configuration, listed by help.
	config any
}

// commands are the commands in the order help lists them.
func commands() []command {
	return []command{
		{"serve", "run every role in one process (SQLite in --data-dir unless SPACKMON_DATABASE_URL is set)", runServe, &serveConfig{}},
		{"auth", "run the auth gRPC service (the realm: users, API tokens, realm tokens, JWKS)", runAuth, &authConfig{}},
		{"ingest", "run the ingest gRPC service", runIngest, &ingestConfig{}},
		{"analysis", "run the analysis gRPC service (spack analyze results; asks ingest about builds)", runAnalysis, &analysisConfig{}},
		{"gateway", "run the HTTP gateway in front of the gRPC services", runGateway, &gatewayConfig{}},
		{"migrate", "apply database migrations and exit", runMigrate, &migrateConfig{}},
		{"prune", "remove builds and logs past the retention policy (SPACKMON_RETENTION) [--dry-run] [-v]", runPrune, &pruneConfig{}},
		{"import", "load spec documents into a server: FILE... --spack-version V [--url U] (SPACKMON_USER, SPACKMON_TOKEN)", runImport, nil},
		{"upload", "replay a spack --monitor-save-local directory into a server: DIR [--url U] (SPACKMON_USER, SPACKMON_TOKEN)", runUpload, nil},
		{"backup", "copy serve's SQLite data dir while it serves: DIR [--data-dir D] (then serve --data-dir DIR runs on the copy)", runBackup, &backupConfig{}},
		{"seed", "fill the ingest store with generated builds through the ingest service, for measuring reads at scale [--builds N] [--events-per-build N] [--log-bytes 1Gi] [--workers N]", runSeed, &seedConfig{}},
		{"user", "add NAME [--admin] | list | rotate NAME | disable NAME | enable NAME | delete NAME", runUser, &userConfig{}},
		{"probe", "ask a role whether it serves: http://HOST:PORT/PATH (2xx) or grpc://HOST:PORT[/SERVICE] (grpc.health.v1 SERVING); for health checks", runProbe, nil},
		{"version", "print the version", runVersion, nil},
		{"help", "list the commands and every configuration variable with its default", runHelp, nil},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:])
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// Stopped as asked while still starting (migrating, say): nothing failed.
		err = nil
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "spackmon:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: spackmon <command> [flags]; 'spackmon help' lists the commands")

func realMain(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		args[0] = "help"
	}
	i := slices.IndexFunc(commands(), func(c command) bool { return c.name == args[0] })
	if i < 0 {
		return fmt.Errorf("unknown command %q; %w", args[0], errUsage)
	}
	err := commands()[i].run(ctx, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		// Asked for, and given.
		return nil
	}
	return err
}

func runHelp(context.Context, []string) error {
	return printHelp(os.Stdout)
}

func printHelp(w io.Writer) error {
	fmt.Fprintln(w, "usage: spackmon <command> [flags]; 'spackmon <command> -h' shows a command's flags")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	for _, c := range commands() {
		if c.config == nil {
			continue
		}
		fmt.Fprintf(w, "\nspackmon %s reads:\n", c.name)
		if err := usage(w, c.config); err != nil {
			return err
		}
	}
	return nil
}

func runVersion(context.Context, []string) error {
	fmt.Println(version.String())
	return nil
}
