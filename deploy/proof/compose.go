package proof

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadCompose loads a compose file as docker compose would, validating it against the
// compose specification.
func LoadCompose(ctx context.Context, path string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{path}, cli.WithResolvedPaths(true))
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(ctx)
}

// listenKeys are the variables that name where a role listens.
var listenKeys = []string{"SPACKMON_ADDR", "SPACKMON_GRPC_ADDR", "SPACKMON_METRICS_ADDR"}

// ComposeUnits are the project's services as units: the ports they listen on (from their
// listen variables) are their container ports; the migration runs to its end.
func ComposeUnits(p *types.Project) (units, jobs []*Unit, err error) {
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		u := &Unit{Name: name, Spackmon: spackmonImage(s.Image), Args: s.Command, Env: map[string]string{}, Files: map[string]string{}}
		for k, v := range s.Environment {
			if v != nil {
				u.Env[k] = *v
			}
		}
		for _, sec := range s.Secrets {
			target := sec.Target
			if target == "" {
				target = "/run/secrets/" + sec.Source
			}
			content, err := os.ReadFile(p.Secrets[sec.Source].File)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: secret %s: %w", name, sec.Source, err)
			}
			u.Files[target] = string(content)
		}
		for _, k := range listenKeys {
			// A loopback address is the container's own: nothing else reaches it.
			if host, port, err := net.SplitHostPort(u.Env[k]); err == nil && !slices.Contains([]string{"127.0.0.1", "localhost", "::1"}, host) {
				n, _ := strconv.Atoi(port)
				u.Ports = append(u.Ports, int32(n))
			}
		}
		if !u.Spackmon {
			// Stood in for by the test's database, on the port PostgreSQL listens on.
			u.Ports = []int32{5432}
		}
		if s.HealthCheck != nil && u.Spackmon {
			test := s.HealthCheck.Test
			if len(test) < 3 || test[0] != "CMD" || test[1] != "/usr/local/bin/spackmon" {
				return nil, nil, fmt.Errorf("%s: health check %q: want [CMD, /usr/local/bin/spackmon, probe, URL] (the image has no shell)", name, test)
			}
			u.Probes = append(u.Probes, Probe{Exec: test[2:]})
		}
		if len(u.Args) > 0 && u.Args[0] == "migrate" {
			jobs = append(jobs, u)
			continue
		}
		units = append(units, u)
	}
	return units, jobs, nil
}

// ComposeNetwork resolves service names to their listen ports and the published ports to the
// services that publish them.
func ComposeNetwork(p *types.Project, units []*Unit) Network {
	n := Network{Services: map[string]map[int32]Target{}, Edge: map[string]Target{}}
	for _, u := range units {
		ports := map[int32]Target{}
		for _, port := range u.Ports {
			ports[port] = Target{u.Name, port}
		}
		n.Services[u.Name] = ports
		for _, pc := range p.Services[u.Name].Ports {
			t := Target{u.Name, int32(pc.Target)}
			n.Edge["localhost:"+pc.Published], n.Edge["127.0.0.1:"+pc.Published] = t, t
		}
	}
	return n
}

// CheckComposeWiring checks that every SPACKMON_* address names a service that exists, on
// the port that service listens on, and that what listens is exposed or published.
func CheckComposeWiring(p *types.Project, units []*Unit) error {
	n := ComposeNetwork(p, units)
	var errs []string
	for _, u := range units {
		s := p.Services[u.Name]
		for k, v := range u.Env {
			if !strings.HasPrefix(k, "SPACKMON_") || slices.Contains(listenKeys, k) {
				continue
			}
			host, port, ok := addressIn(v)
			if !ok || host == "localhost" || host == "127.0.0.1" {
				continue
			}
			ports, ok := n.Services[host]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: %s=%s: no service %s", u.Name, k, v, host))
				continue
			}
			if _, ok := ports[port]; !ok {
				errs = append(errs, fmt.Sprintf("%s: %s=%s: %s listens on %v, not %d", u.Name, k, v, host, mapKeys(ports), port))
			}
		}
		for _, port := range u.Ports {
			exposed := slices.Contains(s.Expose, strconv.Itoa(int(port))) || slices.ContainsFunc(s.Ports, func(pc types.ServicePortConfig) bool { return pc.Target == uint32(port) })
			if u.Spackmon && !exposed && port != 0 {
				errs = append(errs, fmt.Sprintf("%s listens on %d but neither exposes nor publishes it", u.Name, port))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// addressIn finds host and port in an address value: host:port, dns:///host:port or a URL.
func addressIn(v string) (string, int32, bool) {
	v = strings.TrimPrefix(v, "dns:///")
	if i := strings.Index(v, "://"); i >= 0 {
		v = v[i+3:]
		if j := strings.IndexAny(v, "/?"); j >= 0 {
			v = v[:j]
		}
		if at := strings.LastIndex(v, "@"); at >= 0 {
			v = v[at+1:]
		}
		if !strings.Contains(v, ":") {
			v += ":80"
		}
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(port)
	return host, int32(n), err == nil
}

func mapKeys(m map[int32]Target) []int32 {
	var keys []int32
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
