package service

import (
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
)

// optionalConstraint reads the spec constraint of the request field name; nil when the
// field is empty.
func optionalConstraint(name, text string) (*spackspec.Constraint, error) {
	if text == "" {
		return nil, nil
	}
	c, err := spackspec.ParseConstraint(text)
	if err != nil {
		return nil, errs.New(errs.BadRequest, "%s: %v.", name, err)
	}
	return &c, nil
}
