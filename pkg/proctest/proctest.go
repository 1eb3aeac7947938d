// Package proctest runs the real spackmon binary in tests, as an operator would: built from
// source, each role its own process, talking over loopback.
package proctest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// built is cmd/spackmon as Build made it for this test process; main says that Main runs
// the tests, and so will remove it.
var built struct {
	main     bool
	once     sync.Once
	dir, bin string
	err      error
}

// Build returns the path of cmd/spackmon built from source. It is built once per test
// process (linking it takes seconds, and a package's tests start it dozens of times) into
// a directory Main removes after the tests; a process that panics or times out leaves it
// behind in the system's temporary directory. A failed build fails every later caller.
func Build(t testing.TB) string {
	t.Helper()
	if !built.main {
		t.Fatal("proctest.Build needs proctest.Main as the package's TestMain, which removes the binary")
	}
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "spackmon-proctest-")
		if built.err != nil {
			return
		}
		bin := filepath.Join(built.dir, "spackmon")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/spackmon/spackmon/cmd/spackmon").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.bin = bin
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// Main runs a package's tests with run (m.Run itself, or pgtest.Run), removes the binary
// Build made, and exits with the tests' code. A package that calls Build has it as TestMain.
func Main(m *testing.M, run func(*testing.M) int) {
	built.main = true
	code := run(m)
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// Sockets are loopback listeners a test opens for a process of the binary, which takes them
// over as systemd's socket activation hands sockets to a service (LISTEN_FDS, LISTEN_FDNAMES),
// each under the name of the listener it replaces ("http", "grpc", "metrics"). Their addresses
// are known before the process starts and no other process can take them in between.
type Sockets struct {
	names []string
	addrs map[string]string
	open  map[string]net.Listener // until a process takes them
}

// Listen opens a loopback socket for each name.
func Listen(t testing.TB, names ...string) *Sockets {
	t.Helper()
	s := &Sockets{names: names, addrs: map[string]string{}, open: map[string]net.Listener{}}
	for _, name := range names {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.open[name], s.addrs[name] = lis, lis.Addr().String()
	}
	t.Cleanup(s.closeOpen)
	return s
}

// Addr is the address of the socket name.
func (s *Sockets) Addr(name string) string {
	if a, ok := s.addrs[name]; ok {
		return a
	}
	panic("proctest: no socket " + name)
}

// handTo makes cmd inherit the sockets, which it then owns: a process that ends closes them,
// and a client is refused as by a server that went away.
func (s *Sockets) handTo(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if s == nil {
		return
	}
	for _, name := range s.names {
		lis, ok := s.open[name]
		if !ok { // taken by a process that has ended: open it again on its address
			var err error
			if lis, err = net.Listen("tcp", s.addrs[name]); err != nil {
				t.Fatalf("socket %s again on %s: %v", name, s.addrs[name], err)
			}
			s.open[name] = lis
		}
		f, err := lis.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	cmd.Env = append(cmd.Env, fmt.Sprintf("LISTEN_FDS=%d", len(s.names)), "LISTEN_FDNAMES="+strings.Join(s.names, ":"))
}

// handedOver closes this process's copies of the sockets once cmd started with its own.
func (s *Sockets) handedOver(cmd *exec.Cmd) {
	for _, f := range cmd.ExtraFiles {
		f.Close()
	}
	if s != nil {
		s.closeOpen()
	}
}

func (s *Sockets) closeOpen() {
	for name, lis := range s.open {
		lis.Close()
		delete(s.open, name)
	}
}

// Run runs the binary to completion and returns its standard output.
func Run(t testing.TB, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("spackmon %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// AddUser runs spackmon user add and returns the API token it prints on its last line.
func AddUser(t testing.TB, bin string, env []string, name string, args ...string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(Run(t, bin, env, append([]string{"user", "add", name}, args...)...)), "\n")
	return lines[len(lines)-1]
}

// Process is a role of the binary running until the test ends.
type Process struct {
	t    testing.TB
	bin  string
	env  []string
	args []string
	// sockets are handed to the process at each start: a restarted one listens where the
	// first did.
	sockets *Sockets
	cmd     *exec.Cmd
}

// Start runs a role of the binary until the test ends, then stops it with SIGINT and expects
// a clean exit.
func Start(t testing.TB, bin string, env []string, sockets *Sockets, args ...string) *Process {
	t.Helper()
	// A copy: callers append to one shared environment per role, which may reuse its array.
	p := &Process{t: t, bin: bin, env: slices.Clone(env), sockets: sockets, args: args}
	p.start()
	t.Cleanup(func() {
		if p.cmd != nil {
			p.Stop()
		}
	})
	return p
}

func (p *Process) start() {
	p.t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = slices.Clone(p.env)
	cmd.Stderr = os.Stderr
	p.sockets.handTo(p.t, cmd)
	err := cmd.Start()
	p.sockets.handedOver(cmd)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
}

// Stop stops the process with SIGINT and expects a clean exit.
func (p *Process) Stop() {
	p.t.Helper()
	if err := p.signal(os.Interrupt, 15*time.Second); err != nil {
		p.t.Error(err)
	}
}

// Pid is the running process's id, for a test that reads its resource use in /proc.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill ends the process at once, as a crash or an OOM kill would.
func (p *Process) Kill() {
	p.t.Helper()
	cmd := p.cmd
	p.cmd = nil
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// Restart starts a stopped or killed process again, with the same environment, flags and
// sockets: those are opened again on their first addresses, the one moment another process
// could take one (the test then fails saying so).
func (p *Process) Restart() {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatalf("%s is still running", p.args[0])
	}
	p.start()
}

// Deployment is the roles running as separate processes.
type Deployment struct {
	// URL is the gateway's.
	URL string
	// Env is the environment the roles share, for further commands against them.
	Env []string
	// Metrics is the /metrics URL of each gRPC-only role.
	Metrics map[string]string
	// Roles are the processes, by role, for tests that stop and start one.
	Roles map[string]*Process
}

// StartRoles migrates the PostgreSQL database env names and runs auth, ingest, analysis and
// gateway as separate processes on it, waiting until the gateway serves the protocol and the
// realm.
func StartRoles(t testing.TB, bin string, env []string) Deployment {
	t.Helper()
	gateway := Listen(t, "http")
	d := Deployment{URL: "http://" + gateway.Addr("http"), Metrics: map[string]string{}, Roles: map[string]*Process{}}
	d.Env = append(env, "SPACKMON_PUBLIC_URL="+d.URL, "SPACKMON_GATEWAY_SECRET=proctest-gateway-secret-"+rand.Text())
	Run(t, bin, d.Env, "migrate")
	services := map[string]*Sockets{}
	// service is the environment of a gRPC role, whose sockets say where it listens.
	service := func(role string, env ...string) []string {
		s := Listen(t, "grpc", "metrics")
		services[role] = s
		d.Metrics[role] = "http://" + s.Addr("metrics") + "/metrics"
		return append(append(slices.Clone(d.Env), env...), "SPACKMON_GRPC_ADDR="+s.Addr("grpc"), "SPACKMON_METRICS_ADDR="+s.Addr("metrics"))
	}
	authEnv := service("auth", "SPACKMON_DATA_DIR="+t.TempDir())
	ingestEnv := service("ingest")
	ingestAddr := services["ingest"].Addr("grpc")
	analysisEnv := service("analysis", "SPACKMON_INGEST_ADDR="+ingestAddr)
	d.Roles["auth"] = Start(t, bin, authEnv, services["auth"], "auth")
	d.Roles["ingest"] = Start(t, bin, ingestEnv, services["ingest"], "ingest")
	d.Roles["analysis"] = Start(t, bin, analysisEnv, services["analysis"], "analysis")
	d.Roles["gateway"] = Start(t, bin, append(slices.Clone(d.Env), "SPACKMON_INGEST_ADDR="+ingestAddr,
		"SPACKMON_AUTH_ADDR="+services["auth"].Addr("grpc"), "SPACKMON_ANALYSIS_ADDR="+services["analysis"].Addr("grpc"),
		"SPACKMON_ADDR="+gateway.Addr("http")), gateway, "gateway")
	WaitReady(t, d.URL)
	return d
}

// WaitReady waits until the server at url answers service info and its realm (which is 401
// without credentials): the roles start in any order and reach each other within seconds.
func WaitReady(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range []struct {
		path   string
		status int
	}{{"/ms1/", http.StatusOK}, {"/auth/token/", http.StatusUnauthorized}} {
		for {
			resp, err := http.Get(url + c.path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == c.status {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server did not become ready: GET %s: %v", c.path, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Measured is a role of the binary whose peak memory the test reads when it stops it.
type Measured struct {
	cmd     *exec.Cmd
	stopped bool
}

// StartMeasured runs a role of the binary like Start, for a test that stops it with Stop.
func StartMeasured(t testing.TB, bin string, env []string, sockets *Sockets, args ...string) *Measured {
	t.Helper()
	m := &Measured{cmd: exec.Command(bin, args...)}
	m.cmd.Env = slices.Clone(env)
	m.cmd.Stderr = os.Stderr
	sockets.handTo(t, m.cmd)
	err := m.cmd.Start()
	sockets.handedOver(m.cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !m.stopped {
			_ = m.cmd.Process.Kill()
			_ = m.cmd.Wait()
		}
	})
	return m
}

// Stop interrupts the process, expects a clean exit, and returns its peak resident set size
// in bytes. The peak is the VmHWM of /proc/PID/status, read just before the interrupt: the
// rusage of a finished process will not do, because Linux keeps in it the peak of the
// process before its exec, that is of the test binary that forked it (several GiB in a
// long race-enabled run).
func (m *Measured) Stop(t testing.TB) int64 {
	t.Helper()
	peak, err := PeakRSS(m.cmd.Process.Pid)
	if err != nil {
		t.Fatalf("peak RSS of %s: %v", m.cmd.Args[1], err)
	}
	m.stopped = true
	_ = m.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- m.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s exited with %v", m.cmd.Args[1], err)
		}
	case <-time.After(15 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not stop on SIGINT", m.cmd.Args[1])
	}
	return peak
}

// ResetPeak makes the peak resident set of the running process its current one, so that
// Stop reports the peak of what the test does next, and returns that size in bytes.
func (m *Measured) ResetPeak() (int64, error) {
	pid := m.cmd.Process.Pid
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return 0, err
	}
	return statusBytes(pid, "VmRSS")
}

// PeakRSS is the high-water mark of the resident set of the running process pid, in bytes.
func PeakRSS(pid int) (int64, error) {
	return statusBytes(pid, "VmHWM")
}

// statusBytes reads a size in kB from /proc/PID/status.
func statusBytes(pid int, field string) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kib << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// Terminate sends SIGTERM, as an orchestrator stopping the process does, and returns how it
// exited (nil: status 0). wait bounds only a process that does not stop: it is then killed.
func (p *Process) Terminate(wait time.Duration) error {
	return p.signal(syscall.SIGTERM, wait)
}

// signal sends sig and waits for the process to exit, killing it after wait; it returns
// what went wrong (nil: exit status 0).
func (p *Process) signal(sig os.Signal, wait time.Duration) error {
	cmd := p.cmd
	p.cmd = nil
	_ = cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s exited with %w after %v", p.args[0], err, sig)
		}
		return nil
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within %v of %v", p.args[0], wait, sig)
	}
}
