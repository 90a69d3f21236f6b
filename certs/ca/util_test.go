package ca_test

import (
	"errors"

	"github.com/tapline/tapline/certs"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func hasCode(r *certs.Report, code string) bool {
	for _, f := range r.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}
