package proof

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// Unit is one container to run as a process of the binary: a Deployment's or a compose
// service's, with its environment resolved as the orchestrator would.
type Unit struct {
	Name string
	// Spackmon is false for other images (PostgreSQL), which the test's database stands for.
	Spackmon bool
	Args     []string
	Env      map[string]string
	// Ports are the container ports other units may reach, by number and by name.
	Ports     []int32
	PortNames map[string]int32
	Probes    []Probe
	// Init are run to completion before the unit starts (init containers).
	Init []*Unit
	// Files are the contents of the files mounted into the container, by path there.
	Files map[string]string
}

// Probe is a health question as the orchestrator asks it.
type Probe struct {
	// GRPC asks grpc.health.v1 for Service on Port; else HTTP GET Path on Port, or else runs
	// Exec (spackmon probe ...) as a command in the unit.
	GRPC    bool
	Port    int32
	Service string
	Path    string
	Exec    []string
}

// Target is a container port of a unit.
type Target struct {
	Unit string
	Port int32
}

// Network is how names resolve: Service (or compose service) names with their ports, and
// the public edge (Ingress hosts, published ports) by host:port.
type Network struct {
	Services map[string]map[int32]Target
	Edge     map[string]Target
	// External are hosts outside the deployment (an external realm) the test stands up.
	External map[string]string
}

// Runner runs units of one deployment on loopback, each container port on a free port.
type Runner struct {
	Bin         string
	Net         Network
	DatabaseURL string
	// FileDir holds the units' mounted files on this machine.
	FileDir string
	// Wait bounds how long a probe may take to pass and an init container to finish.
	Wait time.Duration

	units map[string]*Unit
	addrs map[Target]string
	mu    sync.Mutex
	procs []*exec.Cmd
	logs  map[string]*bytes.Buffer
}

// NewRunner gives every declared port of units a free loopback port.
func NewRunner(bin string, net Network, units []*Unit) (*Runner, error) {
	r := &Runner{Bin: bin, Net: net, units: map[string]*Unit{}, addrs: map[Target]string{}, logs: map[string]*bytes.Buffer{}, Wait: 30 * time.Second}
	for _, u := range units {
		r.units[u.Name] = u
		for _, p := range u.Ports {
			a, err := freeAddr()
			if err != nil {
				return nil, err
			}
			r.addrs[Target{u.Name, p}] = a
		}
	}
	return r, nil
}

func freeAddr() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer lis.Close()
	return lis.Addr().String(), nil
}

// Addr is where target listens on this machine, "" when it declares no such port.
func (r *Runner) Addr(t Target) string { return r.addrs[t] }

// loopbackHosts are the hosts by which a container names itself.
var loopbackHosts = []string{"", "0.0.0.0", "127.0.0.1", "localhost", "::"}

// resolve maps host:port as seen from unit u to an address on this machine: the public edge
// first, then a Service, then the unit's own ports; a listen address on an undeclared port
// gets a port of its own that nothing else can reach, as in a pod.
func (r *Runner) resolve(u *Unit, host string, port int32) (string, bool) {
	hp := net.JoinHostPort(host, strconv.Itoa(int(port)))
	if t, ok := r.Net.Edge[hp]; ok {
		return r.addrs[t], r.addrs[t] != ""
	}
	if a, ok := r.Net.External[hp]; ok {
		return a, true
	}
	if ports, ok := r.Net.Services[host]; ok {
		t, ok := ports[port]
		return r.addrs[t], ok && r.addrs[t] != ""
	}
	if slices.Contains(loopbackHosts, host) && u != nil {
		if a := r.addrs[Target{u.Name, port}]; a != "" {
			return a, true
		}
		a, err := freeAddr()
		return a, err == nil
	}
	return "", false
}

// Translate rewrites one value of u's environment or arguments: addresses (host:port,
// dns:///host:port, http(s)://host[:port]/..., grpc://host:port/...) as resolve maps them,
// a database URL naming a stood-in database to the test's, a mounted file to its copy here.
// Anything else, and an address that resolves nowhere, stays as written.
func (r *Runner) Translate(u *Unit, key, v string) string {
	if u != nil {
		if _, ok := u.Files[v]; ok {
			return r.file(u, v)
		}
	}
	if strings.HasPrefix(v, "dns:///") {
		return "dns:///" + r.Translate(u, key, strings.TrimPrefix(v, "dns:///"))
	}
	if p, err := url.Parse(v); err == nil && p.Host != "" {
		port := map[string]int32{"https": 443, "http": 80, "postgres": 5432, "postgresql": 5432}[p.Scheme]
		if n, err := strconv.Atoi(p.Port()); err == nil {
			port = int32(n)
		}
		if p.Scheme == "postgres" || p.Scheme == "postgresql" {
			if t, ok := r.Net.Services[p.Hostname()][port]; ok && !r.units[t.Unit].Spackmon {
				return r.DatabaseURL
			}
			return v
		}
		if a, ok := r.resolve(u, p.Hostname(), port); ok && port != 0 {
			// TLS ends at the edge (the Ingress); behind it everything is plain HTTP.
			if p.Scheme == "https" {
				p.Scheme = "http"
			}
			p.Host = a
			return p.String()
		}
		return v
	}
	if host, ps, err := net.SplitHostPort(v); err == nil {
		if n, err := strconv.Atoi(ps); err == nil {
			if a, ok := r.resolve(u, host, int32(n)); ok {
				return a
			}
		}
	}
	return v
}

// file writes the content u has mounted at path into FileDir and returns where.
func (r *Runner) file(u *Unit, at string) string {
	name := filepath.Join(r.FileDir, strings.NewReplacer("/", "_").Replace(u.Name+at))
	if err := os.WriteFile(name, []byte(u.Files[at]), 0o600); err != nil {
		return at
	}
	return name
}

func (r *Runner) environ(u *Unit) []string {
	var env []string
	for k, v := range u.Env {
		env = append(env, k+"="+r.Translate(u, k, v))
	}
	slices.Sort(env)
	return env
}

func (r *Runner) command(ctx context.Context, u *Unit, args []string) *exec.Cmd {
	translated := make([]string, len(args))
	for i, a := range args {
		translated[i] = r.Translate(u, "", a)
	}
	cmd := exec.CommandContext(ctx, r.Bin, translated...)
	cmd.Env = r.environ(u)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 20 * time.Second
	r.mu.Lock()
	defer r.mu.Unlock()
	buf := r.logs[u.Name]
	if buf == nil {
		buf = &bytes.Buffer{}
		r.logs[u.Name] = buf
	}
	cmd.Stdout, cmd.Stderr = &lockedWriter{&r.mu, buf}, &lockedWriter{&r.mu, buf}
	return cmd
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// Logs is what every process wrote, by unit, for a failure's message.
func (r *Runner) Logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for name, buf := range r.logs {
		fmt.Fprintf(&b, "--- %s\n%s", name, buf.String())
	}
	return b.String()
}

// RunToEnd runs u's command to completion (a Job, a migration service).
func (r *Runner) RunToEnd(ctx context.Context, u *Unit) error {
	ctx, cancel := context.WithTimeout(ctx, r.Wait)
	defer cancel()
	if err := r.command(ctx, u, u.Args).Run(); err != nil {
		return fmt.Errorf("%s %v: %w", u.Name, u.Args, err)
	}
	return nil
}

// StartInits starts every unit's init containers; the returned wait reports when they all
// ended well.
func (r *Runner) StartInits(ctx context.Context) (wait func() error) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, u := range r.units {
		for _, in := range u.Init {
			wg.Go(func() { errs <- r.RunToEnd(ctx, in) })
		}
	}
	return func() error {
		wg.Wait()
		close(errs)
		var all []error
		for err := range errs {
			all = append(all, err)
		}
		return errors.Join(all...)
	}
}

// Start starts the unit's main process until ctx ends.
func (r *Runner) Start(ctx context.Context, u *Unit) error {
	cmd := r.command(ctx, u, u.Args)
	if err := cmd.Start(); err != nil {
		return err
	}
	r.mu.Lock()
	r.procs = append(r.procs, cmd)
	r.mu.Unlock()
	return nil
}

// Stop stops every started process with SIGINT and waits for them.
func (r *Runner) Stop() {
	for _, cmd := range r.procs {
		_ = cmd.Process.Signal(os.Interrupt)
	}
	for _, cmd := range r.procs {
		_ = cmd.Wait()
	}
	r.procs = nil
}

// AwaitProbes waits until every probe of every spackmon unit passes, as the orchestrator
// waits for readiness, and says which did not within r.Wait.
func (r *Runner) AwaitProbes(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.Wait)
	defer cancel()
	var errs []error
	for _, u := range r.units {
		for _, p := range u.Probes {
			var last error
			for {
				err := r.probe(ctx, u, p)
				if err == nil || last == nil || ctx.Err() == nil {
					// The failure that explains, not the deadline that ended the wait.
					last = err
				}
				if err == nil || ctx.Err() != nil {
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(200 * time.Millisecond):
				}
			}
			if last != nil {
				errs = append(errs, fmt.Errorf("%s: probe %+v: %w", u.Name, p, last))
			}
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) probe(ctx context.Context, u *Unit, p Probe) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if p.Exec != nil {
		return r.command(ctx, u, p.Exec).Run()
	}
	addr := r.addrs[Target{u.Name, p.Port}]
	if addr == "" {
		return fmt.Errorf("port %d is no container port of %s", p.Port, u.Name)
	}
	if p.GRPC {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		res, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: p.Service})
		if err != nil {
			return err
		}
		if res.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
			return fmt.Errorf("%s", res.GetStatus())
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+p.Path, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	// Kubernetes takes any status from 200 to 399 as success.
	if res.StatusCode < 200 || res.StatusCode >= 400 {
		return fmt.Errorf("GET %s: %s", p.Path, res.Status)
	}
	return nil
}
