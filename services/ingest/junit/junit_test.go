package junit

import (
	"errors"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/fixtures"
)

func TestSpackReports(t *testing.T) {
	for _, v := range []string{"v0.17.2", "v0.18"} {
		success, err := Parse(fixtures.Read(t, "junit", "junit-"+v+"-success.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if !success.Spack || len(success.Suites) != 1 || len(success.Suites[0].Cases) != 2 {
			t.Fatalf("%s success: %+v", v, success)
		}
		s := success.Suites[0]
		dep, root := s.Cases[0], s.Cases[1]
		if dep.ClassName != "mon-dep" || root.ClassName != "mon-root" || dep.Status != Passed || len(root.Name) != 32 ||
			!strings.Contains(root.SystemOut, "Executing phase: 'configure'") || s.Properties["compiler"] != "gcc@12.2.0" {
			t.Errorf("%s success cases %+v %+v %v", v, dep, root, s.Properties)
		}

		failure, err := Parse(fixtures.Read(t, "junit", "junit-"+v+"-failure-dependency.xml"))
		if err != nil {
			t.Fatal(err)
		}
		f := failure.Suites[0].Cases
		if len(f) != 1 || f[0].ClassName != "mon-fail" || f[0].Status != Failed ||
			f[0].Message != "InstallError: mon-fail intentionally fails in build" || !strings.Contains(f[0].Detail, "Traceback") ||
			!strings.Contains(f[0].Detail, `File "<spack-repo>/packages/mon-fail/package.py"`) {
			t.Errorf("%s failure-dependency %+v", v, f)
		}

		skipped, err := Parse(fixtures.Read(t, "junit", "junit-"+v+"-already-installed.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if c := skipped.Suites[0].Cases; len(c) != 2 || c[0].Status != NotRun || c[1].Status != NotRun {
			t.Errorf("%s already installed %+v", v, c)
		}

		cc, err := Parse(fixtures.Read(t, "junit", "junit-"+v+"-cc-error.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if c := cc.Suites[0].Cases; len(c) != 1 || c[0].Status != Failed || !strings.Contains(c[0].SystemOut, "error:") {
			t.Errorf("%s cc error %+v", v, c)
		}
	}
}

func TestGenericReport(t *testing.T) {
	r, err := Parse([]byte(`<testsuite name="pytest" timestamp="2026-12-05T07:00:00" hostname="h">
<testcase classname="tests.test_a" name="test_ok" time="0.5"/>
<testcase classname="tests.test_a" name="test_bad" time="0.1"><failure message="assert 1 == 2">trace</failure><system-out>out</system-out></testcase>
<testcase classname="tests.test_a" name="test_skip"><skipped message="no db"/></testcase>
</testsuite>`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Spack || r.Name != "pytest" || len(r.Suites[0].Cases) != 3 || r.Suites[0].Hostname != "h" {
		t.Fatalf("%+v", r)
	}
	c := r.Suites[0].Cases
	if c[0].Status != Passed || c[0].Seconds != 0.5 || c[1].Status != Failed || c[1].Message != "assert 1 == 2" || c[1].SystemOut != "out" || c[2].Status != NotRun {
		t.Errorf("%+v", c)
	}
	for name, body := range map[string]string{
		"unknown root": `<results/>`,
		"entity":       `<!DOCTYPE x [<!ENTITY a "b">]><testsuite name="&a;"/>`,
		"truncated":    `<testsuite><testcase>`,
	} {
		if _, err := Parse([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzParse: any bytes give a report or ErrMalformed, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(fixtures.Read(f, "junit", "junit-v0.18-success.xml"))
	f.Add(fixtures.Read(f, "junit", "junit-v0.18-failure.xml"))
	f.Add([]byte(`<testsuite name="x"><testcase name="a"/></testsuite>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Parse(data); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
	})
}
