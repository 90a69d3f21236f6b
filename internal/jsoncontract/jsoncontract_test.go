package jsoncontract

import (
	"reflect"
	"testing"
)

// TestMissingFindsDrift: the comparison sees a renamed field, a changed
// kind and a nested difference, and nothing when the shapes agree.
func TestMissingFindsDrift(t *testing.T) {
	type inner struct {
		Code string `json:"code"`
	}
	sub := struct {
		A int     `json:"a"`
		B string  `json:"b"`
		C []inner `json:"c"`
	}{}
	full := struct {
		A string `json:"a"`
		C []struct {
			Code int `json:"code"`
		} `json:"c"`
	}{}
	if p := Missing(reflect.TypeOf(sub), reflect.TypeOf(full), "x", "we read", "they write"); len(p) != 3 {
		t.Fatalf("problems: %q", p)
	}
	if p := Missing(reflect.TypeOf(sub), reflect.TypeOf(sub), "x", "we read", "they write"); len(p) != 0 {
		t.Fatalf("same shape: %q", p)
	}
}
