package xmltree

import (
	"errors"
	"strings"
	"testing"
)

func TestLimits(t *testing.T) {
	nested := func(depth int) string { return strings.Repeat("<a>", depth) + "x" + strings.Repeat("</a>", depth) }
	if _, err := Read([]byte(nested(MaxDepth))); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	if _, err := Read([]byte(nested(MaxDepth + 1))); !errors.Is(err, ErrMalformed) {
		t.Errorf("%d levels: %v", MaxDepth+1, err)
	}
	many := "<r>" + strings.Repeat("<e/>", maxElements) + "</r>"
	if _, err := Read([]byte(many)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "elements") {
		t.Errorf("%d elements: %v", maxElements+1, err)
	}
	attrs := "<r" + strings.Repeat(` a="1"`, 1) + "/>"
	if _, err := Read([]byte(attrs)); err != nil {
		t.Errorf("one attribute: %v", err)
	}
	var b strings.Builder
	b.WriteString("<r")
	for i := range maxAttrs + 1 {
		b.WriteString(" a" + strings.Repeat("x", i) + `="1"`)
	}
	b.WriteString("/>")
	if _, err := Read([]byte(b.String())); !errors.Is(err, ErrMalformed) {
		t.Errorf("%d attributes: %v", maxAttrs+1, err)
	}
}

func TestTree(t *testing.T) {
	root, err := Read([]byte(`<?xml version="1.0" encoding="UTF-8"?><!-- c --><r k="v"><a>1 &amp; &#50;</a><b/><a>3</a></r>`))
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "r" || root.Attr("k") != "v" || root.Value("a") != "1 & 2" || len(root.All("a")) != 2 || root.Child("b") == nil || root.Child("c") != nil {
		t.Errorf("tree %+v", root)
	}
	var none *Element
	if none.Attr("x") != "" || none.Child("x") != nil || none.All("x") != nil || none.Value("x") != "" || none.Text() != "" {
		t.Error("a missing element is not empty")
	}
}
