package spackspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxConstraintLen bounds the text of a constraint a client may send.
const MaxConstraintLen = 512

// Constraint is an abstract spec as Spack writes it on a command line, restricted to what a
// stored spec can be matched on: name@versions +variant ~variant key=value %compiler@versions.
type Constraint struct {
	Name     string
	Versions VersionRanges // nil: any version
	// Variants are the variant conditions, all of which must hold.
	Variants         []VariantCond
	Compiler         string        // "" when the constraint names none
	CompilerVersions VersionRanges // nil: any compiler version
}

// VariantCond is one variant condition: +name (Value "true"), ~name (Value "false") or
// name=value.
type VariantCond struct {
	Name  string
	Value string
}

// VersionRanges is a comma-separated version list: a spec satisfies it when its version is in
// any of the ranges.
type VersionRanges []VersionRange

// VersionRange is one element of a version list. Lo and Hi are "" when open. Exact is Spack's
// @=v; otherwise a bound matches its own dotted prefix, so @1.2 holds 1.2.11 and @:4.1 holds
// 4.1.5, as in Spack.
type VersionRange struct {
	Lo, Hi string
	Exact  bool
	Range  bool // written with a colon
}

// ParseConstraint reads a constraint such as "openmpi@4.1:", "zlib@1.2.11",
// "hdf5+mpi~shared" or "hdf5 %gcc@11:12 api=v18".
func ParseConstraint(text string) (Constraint, error) {
	var c Constraint
	if len(text) > MaxConstraintLen {
		return c, fmt.Errorf("constraint longer than %d bytes", MaxConstraintLen)
	}
	s := strings.TrimSpace(text)
	if s == "" {
		return c, errors.New("empty constraint")
	}
	for s != "" {
		var err error
		switch s[0] {
		case ' ', '\t':
			s = s[1:]
		case '@':
			if c.Versions != nil {
				return c, errors.New("two version lists in one constraint")
			}
			var tok string
			tok, s = token(s[1:])
			c.Versions, err = ParseVersions(tok)
		case '%':
			if c.Compiler != "" {
				return c, errors.New("two compilers in one constraint")
			}
			var name string
			name, s = token(s[1:])
			if !validName(name) {
				return c, fmt.Errorf("bad compiler name %q", name)
			}
			c.Compiler = name
			if strings.HasPrefix(s, "@") {
				var versions string
				versions, s = token(s[1:])
				c.CompilerVersions, err = ParseVersions(versions)
			}
		case '+', '~':
			value := strconv.FormatBool(s[0] == '+')
			var tok string
			tok, s = token(s[1:])
			if !validName(tok) {
				return c, fmt.Errorf("bad variant name %q", tok)
			}
			c.Variants = append(c.Variants, VariantCond{Name: tok, Value: value})
		default:
			var tok string
			tok, s = token(s)
			if key, value, ok := strings.Cut(tok, "="); ok {
				if !validName(key) || value == "" {
					return c, fmt.Errorf("bad variant %q", tok)
				}
				if archKeys[key] {
					// Spack reads these as the architecture, which a constraint here cannot
					// match: as a variant they would silently match nothing.
					return c, fmt.Errorf("%q: arch, platform, os and target are not supported in a constraint", tok)
				}
				c.Variants = append(c.Variants, VariantCond{Name: key, Value: value})
				continue
			}
			if c.Name != "" || !validName(tok) {
				return c, fmt.Errorf("unexpected %q", tok)
			}
			c.Name = tok
		}
		if err != nil {
			return c, err
		}
	}
	if c.Name == "" {
		return c, errors.New("constraint names no package")
	}
	return c, nil
}

// token splits s at the start of the next sigil or space: one constraint element, the rest.
func token(s string) (string, string) {
	end := strings.IndexAny(s, "@%+~ \t")
	if end < 0 {
		return s, ""
	}
	return s[:end], s[end:]
}

// archKeys are the keys Spack's spec syntax gives to the architecture, not to variants.
var archKeys = map[string]bool{"arch": true, "architecture": true, "platform": true, "os": true, "target": true}

// validName is a package, compiler or variant name: letters, digits, '-', '_', '.'.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}

// ParseVersions reads a version list: "1.2.11", "=1.2", "4.1:", ":4.1", "1.2:1.4,2.0".
func ParseVersions(s string) (VersionRanges, error) {
	if s == "" {
		return nil, errors.New("empty version list")
	}
	var out VersionRanges
	for _, part := range strings.Split(s, ",") {
		r := VersionRange{}
		switch {
		case strings.HasPrefix(part, "="):
			r.Lo, r.Hi, r.Exact = part[1:], part[1:], true
		case strings.Contains(part, ":"):
			r.Lo, r.Hi, _ = strings.Cut(part, ":")
			r.Range = true
		default:
			r.Lo, r.Hi = part, part
		}
		for _, v := range []string{r.Lo, r.Hi} {
			if v != "" && !validName(v) {
				return nil, fmt.Errorf("bad version %q", part)
			}
		}
		if r.Exact && r.Lo == "" || !r.Range && r.Lo == "" {
			return nil, fmt.Errorf("bad version %q", part)
		}
		out = append(out, r)
	}
	return out, nil
}

// Contains reports whether version v is in the list; a nil list holds every version.
func (rs VersionRanges) Contains(v string) bool {
	if rs == nil {
		return true
	}
	for _, r := range rs {
		if r.contains(v) {
			return true
		}
	}
	return false
}

func (r VersionRange) contains(v string) bool {
	if v == "" {
		return false
	}
	if r.Exact {
		return v == r.Lo
	}
	if r.Lo != "" && CompareVersions(v, r.Lo) < 0 {
		return false
	}
	// Above the upper bound unless v is within it as a prefix: @:4.1 holds 4.1.5.
	if r.Hi != "" && CompareVersions(v, r.Hi) > 0 && !hasVersionPrefix(v, r.Hi) {
		return false
	}
	return true
}

// hasVersionPrefix reports whether prefix names v or a version family v belongs to.
func hasVersionPrefix(v, prefix string) bool {
	if !strings.HasPrefix(v, prefix) {
		return false
	}
	rest := v[len(prefix):]
	return rest == "" || strings.ContainsRune(".-_", rune(rest[0]))
}

// infinityVersions are the names Spack orders above every numbered release.
var infinityVersions = map[string]int{"stable": 1, "trunk": 2, "head": 3, "master": 4, "main": 5, "develop": 6}

// CompareVersions orders two versions the way Spack does for plain releases: segments split
// at '.', '-' and '_'; numbers compare as numbers and above words; a version ranks below the
// same version with more segments (1.2 < 1.2.1); develop, main and their kind above all.
func CompareVersions(a, b string) int {
	ia, aInf := infinityVersions[a]
	ib, bInf := infinityVersions[b]
	switch {
	case aInf && bInf:
		return ia - ib
	case aInf:
		return 1
	case bInf:
		return -1
	}
	sa, sb := versionSegments(a), versionSegments(b)
	for i := 0; i < len(sa) && i < len(sb); i++ {
		if c := compareSegment(sa[i], sb[i]); c != 0 {
			return c
		}
	}
	return len(sa) - len(sb)
}

func versionSegments(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '-' || r == '_' })
}

func compareSegment(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	case errA == nil:
		return 1
	case errB == nil:
		return -1
	}
	return strings.Compare(a, b)
}

// Matches reports whether a stored spec with this version, parameters object (as sent, may
// be nil) and compiler satisfies the constraint; the name is the caller's to compare.
func (c Constraint) Matches(version string, parameters []byte, compilerName, compilerVersion string) bool {
	if !c.Versions.Contains(version) {
		return false
	}
	if c.Compiler != "" && (c.Compiler != compilerName || !c.CompilerVersions.Contains(compilerVersion)) {
		return false
	}
	if len(c.Variants) == 0 {
		return true
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(parameters, &params) != nil {
		return false
	}
	for _, v := range c.Variants {
		if !variantHolds(params[v.Name], v.Value) {
			return false
		}
	}
	return true
}

// variantHolds reports whether a parameter's JSON value satisfies want: a boolean equal to
// it, a string equal to it, or a list holding each of its comma-separated values.
func variantHolds(raw json.RawMessage, want string) bool {
	var value any
	if len(raw) == 0 || json.Unmarshal(raw, &value) != nil {
		return false
	}
	switch v := value.(type) {
	case bool:
		return strconv.FormatBool(v) == want
	case string:
		return v == want
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64) == want
	case []any:
		have := map[string]bool{}
		for _, item := range v {
			if s, ok := item.(string); ok {
				have[s] = true
			}
		}
		for _, w := range strings.Split(want, ",") {
			if !have[w] {
				return false
			}
		}
		return true
	}
	return false
}

// String writes the constraint back in Spack's syntax.
func (c Constraint) String() string {
	var b strings.Builder
	b.WriteString(c.Name)
	if c.Versions != nil {
		b.WriteString("@" + c.Versions.String())
	}
	for _, v := range c.Variants {
		switch v.Value {
		case "true":
			b.WriteString("+" + v.Name)
		case "false":
			b.WriteString("~" + v.Name)
		default:
			b.WriteString(" " + v.Name + "=" + v.Value)
		}
	}
	if c.Compiler != "" {
		b.WriteString(" %" + c.Compiler)
		if c.CompilerVersions != nil {
			b.WriteString("@" + c.CompilerVersions.String())
		}
	}
	return b.String()
}

func (rs VersionRanges) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		switch {
		case r.Exact:
			parts[i] = "=" + r.Lo
		case r.Range:
			parts[i] = r.Lo + ":" + r.Hi
		default:
			parts[i] = r.Lo
		}
	}
	return strings.Join(parts, ",")
}
