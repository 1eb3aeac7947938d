package main

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A connection opened ahead of its first request, as Go's transport opens one when all of
// its others are busy, must still carry a request after the 10 s the gateway once gave a
// first header: the busy client then wrote its phase log into a reset connection.
func TestUnusedConnectionKept(t *testing.T) {
	if testing.Short() {
		t.Skip("leaves a connection unused for 12 s")
	}
	srv := startServe(t, backends[0].database(t), nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(12 * time.Second)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/ms1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Write(conn); err != nil {
		t.Fatalf("request on the unused connection: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("answer on the unused connection: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// SPACKMON_IDLE_TIMEOUT closes a connection that carries no request once it has passed,
// one unused since its accept and one idle after a request alike.
func TestIdleTimeoutSetting(t *testing.T) {
	const idle = time.Second
	srv := startServe(t, backends[0].database(t), func(cfg *serveConfig) { cfg.IdleTimeout = idle })
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, used := range []bool{false, true} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		if used {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ms1/", nil)
			if err := req.Write(conn); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(r, req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		start := time.Now()
		_ = conn.SetReadDeadline(start.Add(30 * idle))
		if _, err := r.ReadByte(); err == nil || time.Since(start) >= 30*idle {
			t.Errorf("used=%v: the connection was still open after %v: %v", used, time.Since(start).Round(time.Millisecond), err)
		}
	}
}
