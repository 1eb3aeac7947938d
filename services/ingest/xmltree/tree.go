// Package xmltree reads a report that clients send as XML (CDash parts, JUnit files) into a
// small element tree under hard limits (depth, element count, attributes), for the readers
// of each format to pick their fields from. No document type declaration is accepted, so no
// entity is ever declared, let alone expanded: the only entities are XML's five predefined
// ones and character references. The document's size is bounded by its caller.
package xmltree

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits of one document: what its structure may cost beyond its size.
const (
	MaxDepth    = 32
	maxElements = 200_000
	maxAttrs    = 64
)

// ErrMalformed wraps every reason a document is refused.
var ErrMalformed = errors.New("malformed XML report")

// Malformed is an ErrMalformed saying why.
func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Element is a node of a document's tree: its name, attributes, the text directly inside
// it and its child elements.
type Element struct {
	Name     string
	Attrs    []xml.Attr
	text     strings.Builder
	Children []*Element
}

// Text is the text directly inside the element.
func (e *Element) Text() string {
	if e == nil {
		return ""
	}
	return e.text.String()
}

// Attr is the value of the attribute name, "" when absent.
func (e *Element) Attr(name string) string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// Child is the first child element called name, nil when none.
func (e *Element) Child(name string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// All are the child elements called name.
func (e *Element) All(name string) []*Element {
	if e == nil {
		return nil
	}
	var out []*Element
	for _, c := range e.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Value is the text of the child called name, "" when absent.
func (e *Element) Value(name string) string {
	c := e.Child(name)
	if c == nil {
		return ""
	}
	return c.text.String()
}

// Read reads one XML document into a tree. It refuses a document type declaration
// (the only way to declare entities), text that is not UTF-8, a second root, and trees
// deeper or larger than the limits.
func Read(data []byte) (*Element, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	// A part in another encoding is refused rather than converted: both clients write UTF-8.
	dec.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not supported, only UTF-8", label)
	}
	var root *Element
	var stack []*Element
	elements := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, Malformed("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxElements {
				return nil, Malformed("more than %d elements", maxElements)
			}
			if len(stack) >= MaxDepth {
				return nil, Malformed("elements nested deeper than %d levels", MaxDepth)
			}
			if len(t.Attr) > maxAttrs {
				return nil, Malformed("element <%s> has more than %d attributes", t.Name.Local, maxAttrs)
			}
			e := &Element{Name: t.Name.Local, Attrs: t.Copy().Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, Malformed("more than one root element")
				}
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, Malformed("text outside the root element")
			}
		case xml.Directive:
			return nil, Malformed("document type declarations are not accepted")
		}
	}
	if root == nil {
		return nil, Malformed("no root element")
	}
	return root, nil
}
