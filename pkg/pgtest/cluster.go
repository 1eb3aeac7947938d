package pgtest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// localCluster is a PostgreSQL cluster in a temporary directory, reachable only through
// a Unix socket in that directory.
type localCluster struct {
	dir      string // holds data/, the socket and the server log
	url      string
	pgCtl    string
	cred     *syscall.Credential // who runs the server: nil means this process's user
	opts     string              // the server's settings, for each start
	watchdog *exec.Cmd
}

func startCluster() (*localCluster, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "spackmon-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &localCluster{dir: dir, pgCtl: filepath.Join(bin, "pg_ctl"), cred: cred}
	if err := c.start(bin); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *localCluster) start(bin string) error {
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(c.dir, "data")
	// trust on a socket only this user can reach; fsync off because the cluster is
	// thrown away, so durability buys nothing but slowness.
	if err := c.run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	c.opts = strings.Join([]string{
		"-c listen_addresses=''",
		"-c unix_socket_directories=" + c.dir,
		"-c fsync=off",
		"-c synchronous_commit=off",
		"-c full_page_writes=off",
		"-c max_connections=200",
		"-c shared_buffers=32MB",
	}, " ")
	if err := c.startServer(); err != nil {
		return err
	}
	c.url = (&url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/postgres",
		RawQuery: url.Values{"host": {c.dir}, "sslmode": {"disable"}}.Encode(),
	}).String()
	c.startWatchdog(data)
	return nil
}

// startServer starts the server on the cluster's data directory.
func (c *localCluster) startServer() error {
	if err := c.run(c.pgCtl, "start", "-D", filepath.Join(c.dir, "data"), "-w", "-t", "60",
		"-l", filepath.Join(c.dir, "server.log"), "-o", c.opts); err != nil {
		return fmt.Errorf("pg_ctl start: %w (server log in %s)", err, c.dir)
	}
	return nil
}

// stopServer stops the server (fast: the sessions are ended, what was committed stays),
// keeping the data directory for the next start.
func (c *localCluster) stopServer() error {
	if err := c.run(c.pgCtl, "stop", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w", err)
	}
	return nil
}

// run runs a PostgreSQL program as the server's user, with its output in a file rather
// than a pipe: the server pg_ctl forks would otherwise hold the pipe open.
func (c *localCluster) run(program string, args ...string) error {
	logFile, err := os.CreateTemp("", "spackmon-pgtest-cmd-")
	if err != nil {
		return err
	}
	defer os.Remove(logFile.Name())
	defer logFile.Close()
	cmd := exec.Command(program, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(logFile.Name())
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// startWatchdog starts a small shell loop, in its own session, that stops the server
// (SIGINT: fast shutdown) and removes the directory once this process has gone, however
// it went. Stopping it is best effort: without it a crashed test run leaks a cluster.
func (c *localCluster) startWatchdog(data string) {
	script := `while kill -0 "$1" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -INT "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
fi
rm -rf "$3"`
	cmd := exec.Command("/bin/sh", "-c", script, "pgtest-watchdog", strconv.Itoa(os.Getpid()), data, c.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err == nil {
		c.watchdog = cmd
	}
}

func (c *localCluster) stop() error {
	if c.watchdog != nil {
		_ = c.watchdog.Process.Kill()
		_ = c.watchdog.Wait()
	}
	if err := c.stopServer(); err != nil {
		return err
	}
	return os.RemoveAll(c.dir)
}

// postgresBinDir finds initdb and pg_ctl: on PATH, else in the newest
// /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH).
func postgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("initdb and pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin; install PostgreSQL or set %s", EnvURL)
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// serverCredential says whom to run the server as: PostgreSQL refuses to run as root, so
// a root test process hands it to the "postgres" user (or "nobody").
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and no postgres or nobody user to run the server as")
}
