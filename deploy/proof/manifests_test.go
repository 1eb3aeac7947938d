package proof

import (
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// overlays are every overlay of k8s/, each built by the tests.
var overlays = []string{"dev", "production", "production-external-realm"}

func overlayDir(name string) string { return filepath.Join("..", "..", "k8s", "overlays", name) }

func build(t *testing.T, overlay string) *Manifests {
	t.Helper()
	m, err := Build(overlayDir(overlay))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOverlaysBuildStrictly(t *testing.T) {
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			m := build(t, o)
			if len(m.Deployments) == 0 || len(m.Services) == 0 {
				t.Fatalf("%s builds no Deployment or Service", o)
			}
		})
	}
}

func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	const typo = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1\n  templat: {}\n"
	if _, err := DecodeStrict[appsv1.Deployment]([]byte(typo)); err == nil || !strings.Contains(err.Error(), "templat") {
		t.Fatalf("a misspelt field decoded: %v", err)
	}
}

func TestOverlayInvariants(t *testing.T) {
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			if err := CheckInvariants(build(t, o), o != "dev"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestInvariantsCatchMistakes breaks one thing at a time in a built overlay and expects the
// check to say so: a check that cannot fail proves nothing.
func TestInvariantsCatchMistakes(t *testing.T) {
	mutations := map[string]func(m *Manifests){
		"root filesystem writable": func(m *Manifests) {
			no := false
			m.Deployments[0].Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = &no
		},
		"no readiness probe": func(m *Manifests) { m.Deployments[1].Spec.Template.Spec.Containers[0].ReadinessProbe = nil },
		"no budget":          func(m *Manifests) { m.Budgets = m.Budgets[1:] },
		"gateway may reach the database": func(m *Manifests) {
			for _, p := range m.NetworkPolicies {
				if p.Name == "spackmon-gateway" {
					p.Spec.Egress = append(p.Spec.Egress, p.Spec.Egress[len(p.Spec.Egress)-1])
					p.Spec.Egress[len(p.Spec.Egress)-1].Ports = nil
				}
			}
		},
		"database open to all": func(m *Manifests) {
			for _, p := range m.NetworkPolicies {
				if p.Name == "spackmon-postgres" {
					p.Spec.Ingress[0].From = nil
				}
			}
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			m := build(t, "dev")
			mutate(m)
			if err := CheckInvariants(m, false); err == nil {
				t.Fatal("the check passed")
			} else {
				t.Log(err)
			}
		})
	}
}
