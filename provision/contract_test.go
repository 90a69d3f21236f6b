package provision

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/console"
	"github.com/tapline/tapline/sensorcore/daemon"
)

// TestApplianceContract: every JSON field the push engine reads from the
// appliance is one the appliance writes, under the same name and of a
// kind that decodes into it. The two sides declare their own types (the
// laptop reads only what it needs, and tolerates older appliances); this
// keeps them from drifting apart.
func TestApplianceContract(t *testing.T) {
	for _, c := range []struct {
		name              string
		laptop, appliance any
	}{
		{"status --json", Status{}, daemon.Status{}},
		{"apply --json", ApplyResult{}, daemon.ApplyResult{}},
		{"confirm --json", ConfirmResult{}, daemon.OpResult{}},
		{"install-core --json", installCoreResult{}, daemon.InstallCoreResult{}},
		{"/api/v1/health", Health{}, console.Health{}},
	} {
		var problems []string
		compareJSON(reflect.TypeOf(c.laptop), reflect.TypeOf(c.appliance), c.name, &problems)
		for _, p := range problems {
			t.Errorf("%s", p)
		}
	}
}

// TestCompareJSONFindsDrift: the comparison itself sees a renamed field, a
// changed kind and a nested difference.
func TestCompareJSONFindsDrift(t *testing.T) {
	type inner struct {
		Code string `json:"code"`
	}
	laptop := struct {
		A int     `json:"a"`
		B string  `json:"b"`
		C []inner `json:"c"`
	}{}
	appliance := struct {
		A string `json:"a"`
		C []struct {
			Code int `json:"code"`
		} `json:"c"`
	}{}
	var problems []string
	compareJSON(reflect.TypeOf(laptop), reflect.TypeOf(appliance), "x", &problems)
	if len(problems) != 3 {
		t.Fatalf("problems: %q", problems)
	}
}

var (
	rawMessage = reflect.TypeOf(json.RawMessage{})
	timeType   = reflect.TypeOf(time.Time{})
)

// compareJSON reports what of laptop's JSON shape appliance lacks.
func compareJSON(laptop, appliance reflect.Type, path string, problems *[]string) {
	for laptop.Kind() == reflect.Pointer {
		laptop = laptop.Elem()
	}
	for appliance.Kind() == reflect.Pointer {
		appliance = appliance.Elem()
	}
	if laptop == rawMessage {
		return // decoded later, or only passed on
	}
	lk, ak := jsonKind(laptop), jsonKind(appliance)
	if lk != ak {
		*problems = append(*problems, path+": the laptop reads a JSON "+lk+", the appliance writes a "+ak)
		return
	}
	switch lk {
	case "array":
		compareJSON(laptop.Elem(), appliance.Elem(), path+"[]", problems)
	case "object":
		if laptop.Kind() == reflect.Map || appliance.Kind() == reflect.Map {
			if laptop.Kind() == reflect.Map && appliance.Kind() == reflect.Map {
				compareJSON(laptop.Elem(), appliance.Elem(), path+"{}", problems)
			}
			return
		}
		af := jsonFields(appliance)
		for name, lf := range jsonFields(laptop) {
			at, ok := af[name]
			if !ok {
				*problems = append(*problems, path+"."+name+": the laptop reads it, the appliance does not write it")
				continue
			}
			compareJSON(lf, at, path+"."+name, problems)
		}
	}
}

// jsonKind is what a Go type encodes to in JSON.
func jsonKind(t reflect.Type) string {
	if t == timeType {
		return "string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.Kind().String()
}

// jsonFields maps a struct's JSON names to their types, embedded structs
// flattened as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
