package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// installTemplate is what `spack analyze run` reads from a real install's .spack folder: the
// install manifest, the build environment and the configure arguments. The load sends them
// for each successful build, the install prefix changed to the build's.
type installTemplate struct {
	prefix     string // the install prefix the manifest's paths start with
	manifest   map[string]any
	env        map[string]string
	configArgs string
}

func loadInstallTemplate(dir string) (*installTemplate, error) {
	t := &installTemplate{env: map[string]string{}}
	data, err := os.ReadFile(filepath.Join(dir, "install_manifest.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &t.manifest); err != nil {
		return nil, fmt.Errorf("install_manifest.json: %w", err)
	}
	for path := range t.manifest {
		if p, ok := strings.CutSuffix(path, "/.spack"); ok {
			t.prefix = p
		}
	}
	if t.prefix == "" {
		return nil, fmt.Errorf("install_manifest.json: no .spack folder to tell the install prefix")
	}
	env, err := os.ReadFile(filepath.Join(dir, "spack-build-env.txt"))
	if err != nil {
		return nil, err
	}
	// Lines are `NAME=value; export NAME`; Spack's analyzer keeps the variables Spack set.
	for _, line := range strings.Split(string(env), "\n") {
		assign, _, _ := strings.Cut(line, "; export ")
		name, value, ok := strings.Cut(assign, "=")
		if ok && (strings.HasPrefix(name, "SPACK_") || name == "CC" || name == "CXX" || name == "CMAKE_PREFIX_PATH") {
			t.env[name] = value
		}
	}
	args, err := os.ReadFile(filepath.Join(dir, "spack-configure-args.txt"))
	if err != nil {
		return nil, err
	}
	t.configArgs = strings.TrimSpace(string(args))
	return t, nil
}

// metadata is the three analyze posts Spack makes, in its order, for an install at prefix.
func (t *installTemplate) metadata(prefix string) []map[string]any {
	files := make(map[string]any, len(t.manifest))
	for path, v := range t.manifest {
		files[prefix+strings.TrimPrefix(path, t.prefix)] = v
	}
	env := make(map[string]any, len(t.env))
	for k, v := range t.env {
		env[k] = strings.ReplaceAll(v, t.prefix, prefix)
	}
	return []map[string]any{
		{"install_files": files},
		{"environment_variables": env},
		{"config_args": t.configArgs + " --prefix=" + prefix},
	}
}
