package proof

import (
	"fmt"
	"path"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// KubeUnits are the Deployments' and Jobs' containers as units, their environments resolved
// from the overlay's ConfigMaps and Secrets and from secrets the operator creates
// (operatorSecrets: name -> key -> value); a reference to neither fails.
func KubeUnits(m *Manifests, operatorSecrets map[string]map[string]string) (units, jobs []*Unit, err error) {
	lookup := newRefs(m, operatorSecrets)
	for _, d := range m.Deployments {
		u, err := lookup.unit(d.Name, d.Spec.Template.Spec.Containers[0])
		if err != nil {
			return nil, nil, err
		}
		if u.Files, err = lookup.mounts(d.Spec.Template.Spec, d.Spec.Template.Spec.Containers[0]); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", d.Name, err)
		}
		for _, c := range d.Spec.Template.Spec.InitContainers {
			in, err := lookup.unit(d.Name+"/"+c.Name, c)
			if err != nil {
				return nil, nil, err
			}
			u.Init = append(u.Init, in)
		}
		units = append(units, u)
	}
	for _, j := range m.Jobs {
		u, err := lookup.unit(j.Name, j.Spec.Template.Spec.Containers[0])
		if err != nil {
			return nil, nil, err
		}
		jobs = append(jobs, u)
	}
	return units, jobs, nil
}

type refs struct {
	configMaps map[string]map[string]string
	secrets    map[string]map[string]string
}

func newRefs(m *Manifests, operatorSecrets map[string]map[string]string) refs {
	r := refs{configMaps: map[string]map[string]string{}, secrets: map[string]map[string]string{}}
	for _, c := range m.ConfigMaps {
		r.configMaps[c.Name] = c.Data
	}
	for name, data := range operatorSecrets {
		r.secrets[name] = data
	}
	for _, s := range m.Secrets {
		data := map[string]string{}
		for k, v := range s.Data {
			data[k] = string(v)
		}
		for k, v := range s.StringData {
			data[k] = v
		}
		r.secrets[s.Name] = data
	}
	return r
}

func (r refs) unit(name string, c corev1.Container) (*Unit, error) {
	u := &Unit{Name: name, Spackmon: spackmonImage(c.Image), Args: c.Args, Env: map[string]string{}, PortNames: map[string]int32{}}
	if len(c.Command) > 0 {
		return nil, fmt.Errorf("%s: a command replaces the image's entrypoint (spackmon): give args only", name)
	}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			return nil, fmt.Errorf("%s: envFrom other than a ConfigMap", name)
		}
		data, ok := r.configMaps[from.ConfigMapRef.Name]
		if !ok {
			return nil, fmt.Errorf("%s: envFrom ConfigMap %s: no such ConfigMap", name, from.ConfigMapRef.Name)
		}
		for k, v := range data {
			u.Env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		v, err := r.value(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, e.Name, err)
		}
		u.Env[e.Name] = v
	}
	for _, p := range c.Ports {
		u.Ports = append(u.Ports, p.ContainerPort)
		if p.Name != "" {
			u.PortNames[p.Name] = p.ContainerPort
		}
	}
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
		if p == nil || !u.Spackmon {
			continue
		}
		probe, err := u.probe(p)
		if err != nil {
			return nil, err
		}
		u.Probes = append(u.Probes, probe)
	}
	return u, nil
}

func (r refs) value(e corev1.EnvVar) (string, error) {
	from := e.ValueFrom
	switch {
	case from == nil:
		if strings.Contains(e.Value, "$(") {
			return "", fmt.Errorf("%q: the proof does not expand $(VAR) references", e.Value)
		}
		return e.Value, nil
	case from.SecretKeyRef != nil:
		return lookupKey(r.secrets, "Secret", from.SecretKeyRef.Name, from.SecretKeyRef.Key)
	case from.ConfigMapKeyRef != nil:
		return lookupKey(r.configMaps, "ConfigMap", from.ConfigMapKeyRef.Name, from.ConfigMapKeyRef.Key)
	}
	return "", fmt.Errorf("valueFrom other than a Secret or ConfigMap key")
}

func lookupKey(objects map[string]map[string]string, kind, name, key string) (string, error) {
	data, ok := objects[name]
	if !ok {
		return "", fmt.Errorf("%s %s: none in the overlay nor among the operator's", kind, name)
	}
	v, ok := data[key]
	if !ok {
		return "", fmt.Errorf("%s %s has no key %s", kind, name, key)
	}
	return v, nil
}

func (u *Unit) probe(p *corev1.Probe) (Probe, error) {
	switch {
	case p.GRPC != nil:
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		return Probe{GRPC: true, Port: p.GRPC.Port, Service: service}, nil
	case p.HTTPGet != nil:
		port, err := u.port(p.HTTPGet.Port)
		return Probe{Port: port, Path: p.HTTPGet.Path}, err
	}
	return Probe{}, fmt.Errorf("%s: a probe neither gRPC nor httpGet", u.Name)
}

// port resolves a port by number or by the name of a container port.
func (u *Unit) port(p intstr.IntOrString) (int32, error) {
	if p.Type == intstr.Int {
		return p.IntVal, nil
	}
	n, ok := u.PortNames[p.StrVal]
	if !ok {
		return 0, fmt.Errorf("%s: no container port named %q", u.Name, p.StrVal)
	}
	return n, nil
}

// KubeNetwork is how the overlay's names resolve: each Service's ports to the container
// ports of the Deployment it selects, and each Ingress host to its backend.
func KubeNetwork(m *Manifests, units []*Unit) (Network, error) {
	byName := map[string]*Unit{}
	for _, u := range units {
		byName[u.Name] = u
	}
	n := Network{Services: map[string]map[int32]Target{}, Edge: map[string]Target{}}
	for _, s := range m.Services {
		d := selectedDeployment(m.Deployments, s.Spec.Selector)
		if d == nil {
			return n, fmt.Errorf("Service %s selects no Deployment", s.Name)
		}
		ports := map[int32]Target{}
		for _, p := range s.Spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			cp, err := byName[d.Name].port(target)
			if err != nil {
				return n, fmt.Errorf("Service %s port %d: %w", s.Name, p.Port, err)
			}
			ports[p.Port] = Target{d.Name, cp}
		}
		n.Services[s.Name] = ports
	}
	for _, in := range m.Ingresses {
		for _, rule := range in.Spec.Rules {
			for _, path := range rule.HTTP.Paths {
				svc := path.Backend.Service
				var port int32
				for _, p := range serviceNamed(m, svc.Name).Spec.Ports {
					if p.Name == svc.Port.Name || p.Port == svc.Port.Number {
						port = p.Port
					}
				}
				t, ok := n.Services[svc.Name][port]
				if !ok {
					return n, fmt.Errorf("Ingress %s: backend %s port %v resolves to no container port", in.Name, svc.Name, svc.Port)
				}
				n.Edge[rule.Host+":443"], n.Edge[rule.Host+":80"] = t, t
			}
		}
	}
	return n, nil
}

func serviceNamed(m *Manifests, name string) *corev1.Service {
	for _, s := range m.Services {
		if s.Name == name {
			return s
		}
	}
	return &corev1.Service{}
}

func selectedDeployment(ds []*appsv1.Deployment, selector map[string]string) *appsv1.Deployment {
	for _, d := range ds {
		if matches(selector, d.Spec.Template.Labels) {
			return d
		}
	}
	return nil
}

// mounts are the files the container's Secret volumes hold, by path in the container.
func (r refs) mounts(pod corev1.PodSpec, c corev1.Container) (map[string]string, error) {
	files := map[string]string{}
	for _, vm := range c.VolumeMounts {
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
		if i < 0 {
			return nil, fmt.Errorf("volumeMount %s: no such volume", vm.Name)
		}
		secret := pod.Volumes[i].Secret
		if secret == nil {
			continue
		}
		data, ok := r.secrets[secret.SecretName]
		if !ok {
			return nil, fmt.Errorf("volume %s: Secret %s: none in the overlay nor among the operator's", vm.Name, secret.SecretName)
		}
		for key, value := range data {
			files[path.Join(vm.MountPath, key)] = value
		}
	}
	return files, nil
}
