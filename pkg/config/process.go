package config

import "time"

// Process configures how a serving role's process lives: how long it has to stop, and what
// it exposes for an operator diagnosing it.
type Process struct {
	ShutdownTimeout Seconds `envconfig:"SHUTDOWN_TIMEOUT" default:"25" desc:"on SIGTERM, how long the requests in flight have to finish before they are cut, in seconds (keep it under the orchestrator's grace period)"`
	// MemoryLimit makes the collector work harder as the heap nears it, instead of letting the
	// heap grow to twice what is live after a burst.
	MemoryLimit int64  `envconfig:"MEMORY_LIMIT" desc:"soft limit on the Go runtime's memory, in bytes (debug.SetMemoryLimit; GOMEMLIMIT, when set, wins); 0: 64 MiB more than SPACKMON_INFLIGHT_BODY_BYTES in a role that takes bodies, none in the others; negative: none"`
	PprofAddr   string `envconfig:"PPROF_ADDR" desc:"address serving net/http/pprof (/debug/pprof/); empty: none. Keep it on loopback or a private network: profiles reveal the program's internals"`
}

// Shutdown is ShutdownTimeout as a duration; a timeout of zero or less is one of zero:
// the requests in flight are cut at once.
func (p Process) Shutdown() time.Duration { return max(time.Duration(p.ShutdownTimeout), 0) }

// memoryLimitBase is what a role holds besides the bodies in flight: the runtime, caches,
// the log compressor's window, the requests without bodies.
const memoryLimitBase = 64 << 20

// DefaultMemoryLimit is the soft memory limit of a role that takes request bodies: the
// bodies in flight are bounded by their configuration, and what the role holds besides is
// about memoryLimitBase. None when the bodies are not bounded.
func (l Limits) DefaultMemoryLimit() int64 {
	if l.InflightBodyBytes <= 0 {
		return 0
	}
	return memoryLimitBase + l.InflightBodyBytes
}
