// Package jsoncontract compares the JSON shapes of two Go types by
// reflection, for tests that keep two sides of a file or command format in
// step without one side importing the other's code.
package jsoncontract

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

var (
	rawMessage = reflect.TypeOf(json.RawMessage{})
	timeType   = reflect.TypeOf(time.Time{})
)

// Missing reports what of sub's JSON shape full lacks: every field sub
// names must be one full has, under the same name and of a kind that
// decodes into it. side and other name the two sides in the messages
// ("the laptop reads", "the appliance writes"); path prefixes each.
func Missing(sub, full reflect.Type, path, side, other string) []string {
	var problems []string
	compare(sub, full, path, side, other, &problems)
	return problems
}

func compare(sub, full reflect.Type, path, side, other string, problems *[]string) {
	for sub.Kind() == reflect.Pointer {
		sub = sub.Elem()
	}
	for full.Kind() == reflect.Pointer {
		full = full.Elem()
	}
	if sub == rawMessage {
		return // decoded later, or only passed on
	}
	sk, fk := kind(sub), kind(full)
	if sk != fk {
		*problems = append(*problems, path+": "+side+" a JSON "+sk+", "+other+" a "+fk)
		return
	}
	switch sk {
	case "array":
		compare(sub.Elem(), full.Elem(), path+"[]", side, other, problems)
	case "object":
		if sub.Kind() == reflect.Map || full.Kind() == reflect.Map {
			if sub.Kind() == reflect.Map && full.Kind() == reflect.Map {
				compare(sub.Elem(), full.Elem(), path+"{}", side, other, problems)
			}
			return
		}
		ff := fields(full)
		for name, st := range fields(sub) {
			ft, ok := ff[name]
			if !ok {
				*problems = append(*problems, path+"."+name+": "+side+" it, "+other+" no such field")
				continue
			}
			compare(st, ft, path+"."+name, side, other, problems)
		}
	}
}

// kind is what a Go type encodes to in JSON.
func kind(t reflect.Type) string {
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

// fields maps a struct's JSON names to their types, embedded structs
// flattened as encoding/json does.
func fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range fields(f.Type) {
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
