package spackspec

import "testing"

func TestParseConstraintRoundTrips(t *testing.T) {
	for in, want := range map[string]string{
		"openmpi@4.1:":               "openmpi@4.1:",
		"zlib@1.2.11":                "zlib@1.2.11",
		"zlib@=1.2":                  "zlib@=1.2",
		"hdf5+mpi~shared":            "hdf5+mpi~shared",
		"hdf5 %gcc@11:12 api=v18":    "hdf5 api=v18 %gcc@11:12",
		" hdf5@1.10,1.12: %clang ":   "hdf5@1.10,1.12: %clang",
		"py-numpy@:1.22+blas%gcc@11": "py-numpy@:1.22+blas %gcc@11",
	} {
		c, err := ParseConstraint(in)
		if err != nil {
			t.Fatalf("ParseConstraint(%q): %v", in, err)
		}
		if got := c.String(); got != want {
			t.Errorf("ParseConstraint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseConstraintRefuses(t *testing.T) {
	for _, in := range []string{"", "@1.2", "zlib@", "zlib@1.2@1.3", "zlib%", "zlib+", "zlib openmpi",
		"zlib;drop", "zlib@1'2", "zlib key=", "zlib arch=linux-ubuntu20.04-skylake", "zlib target=skylake",
		"zlib os=ubuntu20.04", "zlib platform=linux", string(make([]byte, MaxConstraintLen+1))} {
		if c, err := ParseConstraint(in); err == nil {
			t.Errorf("ParseConstraint(%q) = %v, want an error", in, c)
		}
	}
}

func TestVersionRanges(t *testing.T) {
	cases := []struct {
		list    string
		version string
		want    bool
	}{
		{"1.2.11", "1.2.11", true},
		{"1.2.11", "1.2.12", false},
		{"1.2", "1.2.11", true}, // Spack: @1.2 holds the 1.2 family
		{"1.2", "1.20", false},
		{"=1.2", "1.2.11", false},
		{"=1.2", "1.2", true},
		{"4.1:", "4.1.1", true},
		{"4.1:", "4.0.7", false},
		{"4.1:", "10.0", true},
		{"4.1:", "develop", true},
		{":4.1", "4.1.5", true},
		{":4.1", "4.2", false},
		{"1.2:1.4", "1.3.9", true},
		{"1.2:1.4", "1.4.2", true},
		{"1.2:1.4", "1.5", false},
		{"1.0,2.0:", "1.5", false},
		{"1.0,2.0:", "2.1", true},
		{"1.10", "", false},
		{"1.2a:", "1.2", true}, // a number ranks above a word
	}
	for _, c := range cases {
		rs, err := ParseVersions(c.list)
		if err != nil {
			t.Fatalf("ParseVersions(%q): %v", c.list, err)
		}
		if got := rs.Contains(c.version); got != c.want {
			t.Errorf("@%s holds %q = %v, want %v", c.list, c.version, got, c.want)
		}
	}
}

func TestConstraintMatches(t *testing.T) {
	params := []byte(`{"mpi": true, "shared": false, "api": "v18", "cflags": [], "languages": ["c", "cxx"]}`)
	cases := []struct {
		constraint string
		version    string
		compiler   [2]string
		want       bool
	}{
		{"hdf5", "1.12.2", [2]string{"gcc", "11.3.0"}, true},
		{"hdf5+mpi", "1.12.2", [2]string{"gcc", "11.3.0"}, true},
		{"hdf5~mpi", "1.12.2", [2]string{"gcc", "11.3.0"}, false},
		{"hdf5~shared api=v18", "1.12.2", [2]string{"gcc", "11.3.0"}, true},
		{"hdf5 api=v110", "1.12.2", [2]string{"gcc", "11.3.0"}, false},
		{"hdf5 languages=c,cxx", "1.12.2", [2]string{"gcc", "11.3.0"}, true},
		{"hdf5 languages=fortran", "1.12.2", [2]string{"gcc", "11.3.0"}, false},
		{"hdf5+missing", "1.12.2", [2]string{"gcc", "11.3.0"}, false},
		{"hdf5%gcc@11", "1.12.2", [2]string{"gcc", "11.3.0"}, true},
		{"hdf5%gcc@12:", "1.12.2", [2]string{"gcc", "11.3.0"}, false},
		{"hdf5%clang", "1.12.2", [2]string{"gcc", "11.3.0"}, false},
		{"hdf5@1.10:1.12+mpi%gcc", "1.12.2", [2]string{"gcc", "11.3.0"}, true},
		{"hdf5@1.13:", "1.12.2", [2]string{"gcc", "11.3.0"}, false},
	}
	for _, c := range cases {
		con, err := ParseConstraint(c.constraint)
		if err != nil {
			t.Fatalf("ParseConstraint(%q): %v", c.constraint, err)
		}
		if got := con.Matches(c.version, params, c.compiler[0], c.compiler[1]); got != c.want {
			t.Errorf("%q matches %s = %v, want %v", c.constraint, c.version, got, c.want)
		}
	}
	if con, _ := ParseConstraint("hdf5+mpi"); con.Matches("1.0", nil, "", "") {
		t.Error("a variant condition matched a spec without parameters")
	}
}
