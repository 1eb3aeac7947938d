package proof

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// livenessService is pkg/server's LivenessService, which the proof's probes ask the binary.
const livenessService = "liveness"

// spackmonImage tells the containers of spackmon's image from others (PostgreSQL in dev):
// the base names the image "spackmon" and an overlay gives it a registry and tag.
func spackmonImage(image string) bool {
	name := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(name, ":"); i >= 0 {
		name = name[:i]
	}
	return name == "spackmon"
}

// role is the spackmon subcommand a Deployment runs ("gateway", "ingest"...), "" for others.
func role(d *appsv1.Deployment) string {
	c := d.Spec.Template.Spec.Containers[0]
	if !spackmonImage(c.Image) || len(c.Args) == 0 {
		return ""
	}
	return c.Args[0]
}

// CheckInvariants checks what an operator relies on in a built overlay; scaled says whether
// the overlay autoscales (dev runs one replica each and does not).
func CheckInvariants(m *Manifests, scaled bool) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, d := range m.Deployments {
		r := role(d)
		if r == "" {
			continue
		}
		spec := d.Spec.Template.Spec
		main := spec.Containers[0]
		var preStop int64
		if l := main.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
			preStop = l.PreStop.Sleep.Seconds
		}
		if r == "gateway" && preStop < 5 {
			// Endpoints are removed while the pod is told to stop; proxies hear of it later.
			fail("%s: want a preStop sleep of 5 s or more before the gateway stops taking connections", d.Name)
		}
		if g := spec.TerminationGracePeriodSeconds; g == nil || *g != 30+preStop {
			fail("%s: terminationGracePeriodSeconds want 30 plus the preStop sleep (%d)", d.Name, preStop)
		}
		if p := spec.SecurityContext; p == nil || p.RunAsNonRoot == nil || !*p.RunAsNonRoot {
			fail("%s: pod securityContext.runAsNonRoot want true", d.Name)
		}
		if a := spec.Affinity; a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution)+len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) == 0 {
			fail("%s: no podAntiAffinity spreading its replicas", d.Name)
		}
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			checkContainer(d.Name, c, fail)
		}
		if main.ReadinessProbe == nil || main.LivenessProbe == nil {
			fail("%s: want a readiness and a liveness probe", d.Name)
		} else if r == "gateway" {
			if h := main.ReadinessProbe.HTTPGet; h == nil || h.Path != "/readyz" {
				fail("%s: readiness want httpGet /readyz", d.Name)
			}
			if h := main.LivenessProbe.HTTPGet; h == nil || h.Path != "/healthz" {
				fail("%s: liveness want httpGet /healthz", d.Name)
			}
		} else if main.ReadinessProbe.GRPC == nil || main.LivenessProbe.GRPC == nil {
			fail("%s: want gRPC health probes", d.Name)
		} else if s := main.LivenessProbe.GRPC.Service; s == nil || *s != livenessService {
			// Every other health service follows the database: a liveness probe on one of
			// them restarts every pod when the database is away for a minute.
			fail("%s: liveness want the gRPC health service %q", d.Name, livenessService)
		}
		if env(main, "SPACKMON_SHUTDOWN_TIMEOUT") != "25" {
			fail("%s: SPACKMON_SHUTDOWN_TIMEOUT want 25", d.Name)
		}
		if r != "gateway" && !slices.ContainsFunc(spec.InitContainers, func(c corev1.Container) bool {
			return slices.Equal(c.Args, []string{"migrate", "--wait"})
		}) {
			fail("%s: opens the database without waiting for the schema (init container migrate --wait)", d.Name)
		}
		if !selected(m.Budgets, d) {
			fail("%s: no PodDisruptionBudget", d.Name)
		}
		if scaled && r != "auth" && !slices.ContainsFunc(m.Autoscalers, func(h *autoscalingv2.HorizontalPodAutoscaler) bool { return h.Spec.ScaleTargetRef.Name == d.Name }) {
			fail("%s: no HorizontalPodAutoscaler", d.Name)
		}
	}
	if !slices.ContainsFunc(m.Jobs, func(j *batchv1.Job) bool {
		return slices.Equal(j.Spec.Template.Spec.Containers[0].Args, []string{"migrate"})
	}) {
		fail("no migration Job")
	}
	errs = append(errs, checkNetwork(m)...)
	return errors.Join(errs...)
}

func checkContainer(owner string, c corev1.Container, fail func(string, ...any)) {
	s := c.SecurityContext
	switch {
	case s == nil:
		fail("%s/%s: no securityContext", owner, c.Name)
		return
	case s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem:
		fail("%s/%s: readOnlyRootFilesystem want true", owner, c.Name)
	case s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation:
		fail("%s/%s: allowPrivilegeEscalation want false", owner, c.Name)
	case s.Capabilities == nil || !slices.Contains(s.Capabilities.Drop, "ALL"):
		fail("%s/%s: capabilities want drop ALL", owner, c.Name)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			fail("%s/%s: no %s request", owner, c.Name, res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			fail("%s/%s: no %s limit", owner, c.Name, res)
		}
	}
}

func env(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func selected(budgets []*policyv1.PodDisruptionBudget, d *appsv1.Deployment) bool {
	for _, b := range budgets {
		if b.Spec.Selector != nil && matches(b.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			return true
		}
	}
	return false
}

func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkNetwork checks the NetworkPolicies: every spackmon pod denies ingress by default; a
// service's port admits only the gateway (and analysis, for ingest); the gateway cannot
// reach the database port; an in-cluster database admits only the database clients.
func checkNetwork(m *Manifests) []error {
	var errs []error
	byRole := map[string]*appsv1.Deployment{}
	for _, d := range m.Deployments {
		byRole[role(d)] = d
	}
	for r, d := range byRole {
		if r == "" {
			continue
		}
		if !slices.ContainsFunc(m.NetworkPolicies, func(p *networkingv1.NetworkPolicy) bool {
			return len(p.Spec.Ingress) == 0 && slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && matches(p.Spec.PodSelector.MatchLabels, d.Spec.Template.Labels)
		}) {
			errs = append(errs, fmt.Errorf("%s: not under a default-deny ingress policy", d.Name))
		}
		if r == "gateway" {
			continue
		}
		port := d.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort
		for _, from := range admittedTo(m, d.Spec.Template.Labels, port) {
			if from != "spackmon-gateway" && (r != "ingest" || from != "spackmon-analysis") {
				errs = append(errs, fmt.Errorf("%s: port %d admits %s", d.Name, port, from))
			}
		}
	}
	if gw := byRole["gateway"]; gw != nil {
		for _, p := range m.NetworkPolicies {
			if !matches(p.Spec.PodSelector.MatchLabels, gw.Spec.Template.Labels) || !slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
				continue
			}
			for _, rule := range p.Spec.Egress {
				if allowsPort(rule.Ports, 5432) {
					errs = append(errs, fmt.Errorf("%s: gateway egress allows the database port 5432", p.Name))
				}
			}
		}
		if !slices.ContainsFunc(m.NetworkPolicies, func(p *networkingv1.NetworkPolicy) bool {
			return matches(p.Spec.PodSelector.MatchLabels, gw.Spec.Template.Labels) && slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}) {
			errs = append(errs, errors.New("the gateway's egress is not restricted: it could reach the database"))
		}
	}
	if db := byRole[""]; db != nil {
		port := db.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort
		clients := admittedTo(m, db.Spec.Template.Labels, port)
		for _, d := range m.Deployments {
			admitted := slices.ContainsFunc(clients, func(c string) bool { return c == d.Name || c == "*" })
			if wants := role(d) != "" && role(d) != "gateway"; admitted != wants {
				errs = append(errs, fmt.Errorf("%s: database admits it: %v, want %v", d.Name, admitted, wants))
			}
		}
	}
	return errs
}

// admittedTo names the Deployments whose pods the policies let reach port on the pods
// labelled labels; "*" stands for any peer.
func admittedTo(m *Manifests, labels map[string]string, port int32) []string {
	var from []string
	for _, p := range m.NetworkPolicies {
		if !matches(p.Spec.PodSelector.MatchLabels, labels) {
			continue
		}
		for _, rule := range p.Spec.Ingress {
			if !allowsPort(rule.Ports, port) {
				continue
			}
			if len(rule.From) == 0 {
				from = append(from, "*")
			}
			for _, peer := range rule.From {
				if peer.PodSelector == nil {
					from = append(from, "*")
					continue
				}
				for _, d := range m.Deployments {
					if matches(peer.PodSelector.MatchLabels, d.Spec.Template.Labels) {
						from = append(from, d.Name)
					}
				}
				for _, j := range m.Jobs {
					if matches(peer.PodSelector.MatchLabels, j.Spec.Template.Labels) {
						from = append(from, j.Name)
					}
				}
			}
		}
	}
	return from
}

func allowsPort(ports []networkingv1.NetworkPolicyPort, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Port == nil || p.Port.IntVal == port {
			return true
		}
	}
	return false
}
