package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/proctest"
)

// Profiles are served by every role on SPACKMON_PPROF_ADDR when it is set, and nowhere
// when it is not: not on the public port, and on no port of their own.
func TestPprofOnlyWhenAsked(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t)
	base := append(os.Environ(), "SPACKMON_LOG_LEVEL=warn", "SPACKMON_DISABLE_AUTH=true", "SPACKMON_PPROF_ADDR=127.0.0.1:0")
	client := &http.Client{Timeout: time.Minute}
	for _, role := range []struct {
		name, listener string
		env            []string
	}{
		{"serve", "http", []string{"SPACKMON_DATA_DIR=" + t.TempDir()}},
		{"ingest", "grpc", []string{"SPACKMON_DATA_DIR=" + t.TempDir()}},
		{"analysis", "grpc", []string{"SPACKMON_DATA_DIR=" + t.TempDir(), "SPACKMON_INGEST_ADDR=127.0.0.1:1"}},
		{"auth", "grpc", []string{"SPACKMON_DATA_DIR=" + t.TempDir()}},
		{"gateway", "http", []string{"SPACKMON_INGEST_ADDR=127.0.0.1:1", "SPACKMON_AUTH_ADDR=127.0.0.1:1", "SPACKMON_ANALYSIS_ADDR=127.0.0.1:1"}},
	} {
		t.Run(role.name, func(t *testing.T) {
			names := []string{role.listener, "pprof"}
			if role.name == "serve" {
				names = append(names, "grpc")
			}
			sockets := proctest.Listen(t, names...)
			p := proctest.Start(t, bin, append(slices.Clone(base), role.env...), sockets, role.name)
			body := getOK(t, client, "http://"+sockets.Addr("pprof")+"/debug/pprof/cmdline")
			if !strings.Contains(body, role.name) {
				t.Errorf("cmdline %q does not name the role", body)
			}
			getOK(t, client, "http://"+sockets.Addr("pprof")+"/debug/pprof/goroutine?debug=1")
			if role.listener == "http" {
				wantNotFound(t, client, "http://"+sockets.Addr("http")+"/debug/pprof/")
			}
			p.Stop()
		})
	}

	t.Run("not asked", func(t *testing.T) {
		sockets := proctest.Listen(t, "http", "grpc")
		env := append(slices.DeleteFunc(slices.Clone(base), func(kv string) bool { return strings.HasPrefix(kv, "SPACKMON_PPROF_ADDR=") }),
			"SPACKMON_DATA_DIR="+t.TempDir())
		p := proctest.Start(t, bin, env, sockets, "serve")
		proctest.WaitReady(t, "http://"+sockets.Addr("http"))
		wantNotFound(t, client, "http://"+sockets.Addr("http")+"/debug/pprof/")
		var want []int
		for _, name := range []string{"http", "grpc"} {
			want = append(want, port(t, sockets.Addr(name)))
		}
		slices.Sort(want)
		if got := listeningPorts(t, p.Pid()); !slices.Equal(got, want) {
			t.Errorf("serve listens on ports %v, want only its HTTP and gRPC ports %v", got, want)
		}
	})
}

func getOK(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %.200s", url, resp.StatusCode, body)
	}
	return string(body)
}

func wantNotFound(t *testing.T, client *http.Client, url string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s: %d, want 404", url, resp.StatusCode)
	}
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// listeningPorts are the TCP ports the process pid listens on, sorted: its socket
// descriptors (/proc/PID/fd) matched with the kernel's table of listening sockets.
func listeningPorts(t *testing.T, pid int) []int {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	if err != nil || len(fds) == 0 {
		t.Fatalf("descriptors of %d: %v", pid, err)
	}
	for _, fd := range fds {
		if link, err := os.Readlink(fd); err == nil {
			if inode, ok := strings.CutPrefix(link, "socket:["); ok {
				inodes[strings.TrimSuffix(inode, "]")] = true
			}
		}
	}
	var ports []int
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			const listen = "0A"
			if len(f) < 10 || f[3] != listen || !inodes[f[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if n, err := strconv.ParseInt(hexPort, 16, 32); err == nil {
				ports = append(ports, int(n))
			}
		}
	}
	slices.Sort(ports)
	return ports
}
