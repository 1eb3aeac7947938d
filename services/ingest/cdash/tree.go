// Package cdash reads the XML parts that CDash clients (ctest, Spack's CDash reporter)
// submit to submit.php: Update, Configure, Build (the plain Warning/Error form and the
// launcher Failure form), Testing and Spack's Test, Notes, Upload and Done.
//
// A part is read into a small element tree under hard limits (depth, element count,
// attribute and text sizes), then its fields are picked from the tree. No document type
// declaration is accepted, so no entity is ever declared, let alone expanded: the only
// entities are XML's five predefined ones and character references.
package cdash

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits of one part. A part's size is bounded by its caller; these bound what its
// structure may cost beyond its size.
const (
	MaxDepth    = 32
	maxElements = 200_000
	maxAttrs    = 64
)

// ErrMalformed wraps every reason a part is refused.
var ErrMalformed = errors.New("malformed CDash part")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// element is a node of a part's tree: its name, attributes, the text directly inside it
// and its child elements.
type element struct {
	name     string
	attrs    []xml.Attr
	text     strings.Builder
	children []*element
}

// attr is the value of the attribute name, "" when absent.
func (e *element) attr(name string) string {
	if e == nil {
		return ""
	}
	for _, a := range e.attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// child is the first child element called name, nil when none.
func (e *element) child(name string) *element {
	if e == nil {
		return nil
	}
	for _, c := range e.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// all are the child elements called name.
func (e *element) all(name string) []*element {
	if e == nil {
		return nil
	}
	var out []*element
	for _, c := range e.children {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// value is the text of the child called name, "" when absent.
func (e *element) value(name string) string {
	c := e.child(name)
	if c == nil {
		return ""
	}
	return c.text.String()
}

// readTree reads one XML document into a tree. It refuses a document type declaration
// (the only way to declare entities), text that is not UTF-8, a second root, and trees
// deeper or larger than the limits.
func readTree(data []byte) (*element, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	// A part in another encoding is refused rather than converted: both clients write UTF-8.
	dec.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not supported, only UTF-8", label)
	}
	var root *element
	var stack []*element
	elements := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, malformed("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxElements {
				return nil, malformed("more than %d elements", maxElements)
			}
			if len(stack) >= MaxDepth {
				return nil, malformed("elements nested deeper than %d levels", MaxDepth)
			}
			if len(t.Attr) > maxAttrs {
				return nil, malformed("element <%s> has more than %d attributes", t.Name.Local, maxAttrs)
			}
			e := &element{name: t.Name.Local, attrs: t.Copy().Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, malformed("more than one root element")
				}
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, malformed("text outside the root element")
			}
		case xml.Directive:
			return nil, malformed("document type declarations are not accepted")
		}
	}
	if root == nil {
		return nil, malformed("no root element")
	}
	return root, nil
}
