package config

import "time"

// Process configures how a serving role's process lives: how long it has to stop, and what
// it exposes for an operator diagnosing it.
type Process struct {
	ShutdownTimeout Seconds `envconfig:"SHUTDOWN_TIMEOUT" default:"25" desc:"on SIGTERM, how long the requests in flight have to finish before they are cut, in seconds (keep it under the orchestrator's grace period)"`
	// MemoryLimit makes the collector work harder as the heap nears it, instead of letting the
	// heap grow to twice what is live after a burst.
	MemoryLimit int64  `envconfig:"MEMORY_LIMIT" desc:"soft limit on the Go runtime's memory, in bytes (debug.SetMemoryLimit; GOMEMLIMIT, when set, wins); 0 or empty: none"`
	PprofAddr   string `envconfig:"PPROF_ADDR" desc:"address serving net/http/pprof (/debug/pprof/); empty: none. Keep it on loopback or a private network: profiles reveal the program's internals"`
}

// Shutdown is ShutdownTimeout as a duration; a timeout of zero or less is one of zero:
// the requests in flight are cut at once.
func (p Process) Shutdown() time.Duration { return max(time.Duration(p.ShutdownTimeout), 0) }
