// Package proof proves the deployment files (k8s/ and deploy/compose*.yaml): it builds them
// as kustomize and compose do, decodes them strictly, checks what an operator relies on, and
// runs the containers' commands and environments as processes of the real binary.
package proof

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Manifests are the objects an overlay builds, each decoded into its typed struct.
type Manifests struct {
	Deployments     []*appsv1.Deployment
	Services        []*corev1.Service
	ConfigMaps      []*corev1.ConfigMap
	Secrets         []*corev1.Secret
	Jobs            []*batchv1.Job
	Autoscalers     []*autoscalingv2.HorizontalPodAutoscaler
	Budgets         []*policyv1.PodDisruptionBudget
	NetworkPolicies []*networkingv1.NetworkPolicy
	Ingresses       []*networkingv1.Ingress
	// Custom are objects of custom resource kinds (the Prometheus operator's), which
	// k8s.io/api has no type for: kept as kind/name, not decoded.
	Custom []string
}

// Build builds the kustomization in dir as kubectl apply -k would and decodes every object.
func Build(dir string) (*Manifests, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	m := &Manifests{}
	for _, r := range res.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(r.GetGvk().Group, "monitoring.coreos.com") {
			m.Custom = append(m.Custom, r.GetKind()+"/"+r.GetName())
			continue
		}
		if err := m.add(r.GetKind(), y); err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
	}
	return m, nil
}

// add decodes one object into the typed struct of its kind; a field the struct lacks fails,
// as kubectl apply --validate=strict would refuse it.
func (m *Manifests) add(kind string, y []byte) error {
	switch kind {
	case "Deployment":
		return decodeInto(y, &m.Deployments)
	case "Service":
		return decodeInto(y, &m.Services)
	case "ConfigMap":
		return decodeInto(y, &m.ConfigMaps)
	case "Secret":
		return decodeInto(y, &m.Secrets)
	case "Job":
		return decodeInto(y, &m.Jobs)
	case "HorizontalPodAutoscaler":
		return decodeInto(y, &m.Autoscalers)
	case "PodDisruptionBudget":
		return decodeInto(y, &m.Budgets)
	case "NetworkPolicy":
		return decodeInto(y, &m.NetworkPolicies)
	case "Ingress":
		return decodeInto(y, &m.Ingresses)
	}
	return fmt.Errorf("kind %s: the proof knows no such kind; add it", kind)
}

func decodeInto[T any](y []byte, list *[]*T) error {
	v, err := DecodeStrict[T](y)
	if err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// DecodeStrict decodes one YAML object into T, refusing fields T does not have.
func DecodeStrict[T any](y []byte) (*T, error) {
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	v := new(T)
	if err := dec.Decode(v); err != nil {
		return nil, err
	}
	return v, nil
}
