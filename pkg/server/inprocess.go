package server

import (
	"context"
	"net"
	"sync"

	"google.golang.org/grpc"
)

// InProcess is a listener whose connections are made by callers in the same process: a
// process that runs a service and its callers (serve) reaches the service through the same
// gRPC server, interceptors and telemetry as over the network, without a loopback socket
// and its system calls. Each connection is a synchronous in-memory pipe.
type InProcess struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// inProcessAddr is the address of every InProcess listener.
type inProcessAddr struct{}

func (inProcessAddr) Network() string { return "inprocess" }
func (inProcessAddr) String() string  { return "in-process" }

// NewInProcess returns an open listener.
func NewInProcess() *InProcess {
	return &InProcess{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept waits for a caller's connection.
func (l *InProcess) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close makes Accept and later dials fail; connections made stay open.
func (l *InProcess) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the same for every in-process listener.
func (l *InProcess) Addr() net.Addr { return inProcessAddr{} }

// DialContext makes a connection to the listener, once the server accepts it.
func (l *InProcess) DialContext(ctx context.Context, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		err := net.ErrClosed
		server.Close()
		client.Close()
		return nil, err
	case <-ctx.Done():
		server.Close()
		client.Close()
		return nil, ctx.Err()
	}
}

// DialInProcess connects to the service served on l, with the options of Dial.
func DialInProcess(l *InProcess, maxPayloadBytes int64) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+l.Addr().String(), append(dialOptions(maxPayloadBytes), grpc.WithContextDialer(l.DialContext))...)
}
