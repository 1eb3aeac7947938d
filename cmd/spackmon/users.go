package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
	authservice "github.com/spackmon/spackmon/services/auth/service"
	authstore "github.com/spackmon/spackmon/services/auth/store"
	ingestservice "github.com/spackmon/spackmon/services/ingest/service"
)

var errUserUsage = errors.New("usage: spackmon user add NAME [--admin] | list | rotate NAME | disable NAME | enable NAME | delete NAME")

// runUser administers users directly in the auth store, which works whether or not a server
// runs on it.
func runUser(ctx context.Context, args []string) error {
	return userCommand(ctx, os.Stdout, args)
}

func userCommand(ctx context.Context, out io.Writer, args []string) error {
	if len(args) == 0 {
		return errUserUsage
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(out, errUserUsage)
		return flag.ErrHelp
	}
	var cfg userConfig
	// Help is given even when the environment holds a bad value.
	loadErr := config.Load(&cfg)
	fs := flag.NewFlagSet("spackmon user "+sub, flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "SQLite data directory")
	admin := fs.Bool("admin", false, "the user may administer users (add only)")
	names, err := parseArgs(fs, args, out, func(w io.Writer) {
		fmt.Fprintln(w, errUserUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fmt.Fprintln(w, "\nThe store is SPACKMON_DATABASE_URL's when set, else the SQLite files in --data-dir (SPACKMON_DATA_DIR).")
	})
	if err != nil {
		return err
	}
	if loadErr != nil {
		return loadErr
	}
	if err := checkUserArgs(sub, names, *admin); err != nil {
		return err
	}
	st, err := openAuthStore(ctx, cfg.Database, true)
	if err != nil {
		return err
	}
	defer st.Close()
	users := authservice.NewUsers(st)
	switch sub {
	case "add":
		u, tok, err := users.Add(ctx, names[0], *admin)
		if err != nil {
			return addFailed(ctx, users, names[0], err)
		}
		fmt.Fprintf(out, "created user %s (admin: %t); its API token, shown only now:\n%s\n", u.Name, u.Admin, tok.Reveal())
	case "list":
		list, err := users.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tADMIN\tDISABLED\tCREATED")
		for _, u := range list {
			fmt.Fprintf(tw, "%s\t%t\t%t\t%s\n", u.Name, u.Admin, u.Disabled, u.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "rotate":
		tok, err := users.Rotate(ctx, names[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked every API token of %s; the new one, shown only now:\n%s\n", names[0], tok.Reveal())
	case "disable", "enable":
		u, err := users.SetDisabled(ctx, names[0], sub == "disable")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "user %s disabled: %t\n", u.Name, u.Disabled)
	case "delete":
		renamed, err := tombstoneBuilds(ctx, cfg.Database, st, names[0])
		if err != nil {
			return err
		}
		if err := users.Delete(ctx, names[0]); err != nil {
			return err
		}
		fmt.Fprintf(out, "deleted user %s and its tokens; builds now shown as owned by %s: %d\n", names[0], renamed.name, renamed.builds)
	}
	return nil
}

func checkUserArgs(sub string, names []string, admin bool) error {
	if admin && sub != "add" {
		return errUserUsage
	}
	switch sub {
	case "list":
		if len(names) == 0 {
			return nil
		}
	case "add", "rotate", "disable", "enable", "delete":
		if len(names) == 1 {
			return nil
		}
	}
	return errUserUsage
}

// addFailed explains a failed user add: for a name that is taken, how to get a new token.
func addFailed(ctx context.Context, users *authservice.Users, name string, err error) error {
	list, lerr := users.List(ctx)
	if lerr != nil {
		return err
	}
	for _, u := range list {
		if u.Name == name {
			return fmt.Errorf("%w '%s user rotate %s' gives it a new API token (and revokes its old ones)", err, selfCommand(), name)
		}
	}
	return err
}

// tombstone is what a deleted user's builds are shown as owned by.
type tombstone struct {
	name   string
	builds int
}

// tombstoneBuilds shows the builds of user name as owned by its tombstone name, as deleting
// an account from its profile page does: a user added later with the same name must not
// appear to own them.
func tombstoneBuilds(ctx context.Context, d config.Database, st authstore.Store, name string) (tombstone, error) {
	u, err := st.GetUser(ctx, name)
	if err != nil {
		return tombstone{}, err
	}
	t := tombstone{name: ingestservice.TombstoneName(u.ID)}
	if d.URL != "" {
		// PostgreSQL's ingest schema is the migration's to change (some of its steps want
		// the ingest role stopped): the command works on it only at this binary's version,
		// and a database without it holds no builds.
		current, target, err := db.PostgresVersions(ctx, d.URL, ingestSchema.postgres, db.WithVersionTable(ingestSchema.versionTable))
		switch {
		case err != nil:
			return t, err
		case current == 0:
			return t, nil
		case current != target:
			return t, fmt.Errorf("the ingest schema is at version %d, this binary's is %d: run the same spackmon version as the servers (or spackmon migrate first)", current, target)
		}
	}
	ingest, err := openIngestStore(ctx, d, false)
	if err != nil {
		return tombstone{}, err
	}
	defer ingest.Close()
	t.builds, err = ingest.RenameOwner(ctx, u.ID, t.name)
	return t, err
}
