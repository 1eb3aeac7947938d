// Package version tells which release of spackmon is running.
package version

import "runtime/debug"

// Version is set at link time (-X github.com/spackmon/spackmon/pkg/version.Version=v1.2.3) by
// release builds; otherwise it comes from the module's build information.
var Version = ""

// String returns the release version, or "dev" for an untagged build.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
