package monitor

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Operation is an operations log record as JSON decodes it: every field
// the log writes (docs/monitoring.md "Operations log"), for the console's
// pages, `sensorcore events` without --json, and the tests (which decode
// every record with unknown fields refused, so this type and the writer
// stay in step).
type Operation struct {
	ID           string       `json:"id"`
	Time         time.Time    `json:"time"`
	Protocol     string       `json:"protocol"`
	Client       OperationEnd `json:"client"`
	Server       OperationEnd `json:"server"`
	Function     *int         `json:"function"`
	FunctionName string       `json:"function_name"`
	Action       string       `json:"action"`
	Transaction  *int         `json:"transaction"`
	// Modbus and IEC-104
	Unit     *int  `json:"unit"`
	Address  *int  `json:"address"`
	Quantity *int  `json:"quantity"`
	Values   []int `json:"values"`
	Cause    *int  `json:"cause"`
	// DNP3 object headers and CROBs; BACnet objects
	Objects  []OperationObject   `json:"objects"`
	Controls []DNP3ControlRecord `json:"controls"`
	// CIP
	Class        *int               `json:"class"`
	Instance     *int               `json:"instance"`
	Attribute    *int               `json:"attribute"`
	Tag          string             `json:"tag"`
	Services     []CIPServiceRecord `json:"services"`
	MoreServices int                `json:"more_services"`
	// S7comm
	Group        *int           `json:"group"`
	Subfunction  *int           `json:"subfunction"`
	UserdataName string         `json:"userdata_name"`
	Items        []S7ItemRecord `json:"items"`
	Block        *S7BlockRecord `json:"block"`
	// BACnet
	Unconfirmed bool `json:"unconfirmed"`
	// PROFINET DCP
	Station string `json:"station"`
	IP      string `json:"ip"`
	Mask    string `json:"mask"`
	Gateway string `json:"gateway"`
	// a protocol plugin's fields, by name
	Fields map[string]json.RawMessage `json:"fields"`

	Result      string `json:"result"`
	RequestSeen *bool  `json:"request_seen"`
	LatencyUS   *int64 `json:"latency_us"`
	Status      *int   `json:"status"`
}

// OperationEnd is a record's client or server.
type OperationEnd struct {
	IP   string `json:"ip"`
	Port int    `json:"port"`
	MAC  string `json:"mac"`
}

// String is "ip:port", or the MAC address of a link-layer end.
func (e OperationEnd) String() string {
	if e.IP == "" {
		return e.MAC
	}
	if strings.Contains(e.IP, ":") {
		return "[" + e.IP + "]:" + strconv.Itoa(e.Port)
	}
	return e.IP + ":" + strconv.Itoa(e.Port)
}

// OperationObject is a DNP3 object header (group, variation, qualifier
// and range) or a BACnet object (type, instance, property, index).
type OperationObject struct {
	Group     *int `json:"group"`
	Variation *int `json:"variation"`
	Qualifier *int `json:"qualifier"`
	Start     *int `json:"start"`
	Stop      *int `json:"stop"`
	Count     *int `json:"count"`
	All       bool `json:"all"`

	Type         *int   `json:"type"`
	TypeName     string `json:"type_name"`
	Instance     *int   `json:"instance"`
	Property     *int   `json:"property"`
	PropertyName string `json:"property_name"`
	Index        *int   `json:"index"`
}

// DNP3ControlRecord is one CROB of a DNP3 control.
type DNP3ControlRecord struct {
	Index     int    `json:"index"`
	Code      int    `json:"code"`
	Operation string `json:"operation"`
	Count     int    `json:"count"`
	OnMS      int64  `json:"on_ms"`
	OffMS     int64  `json:"off_ms"`
	Status    int    `json:"status"`
}

// CIPServiceRecord is one request a CIP Multiple Service Packet or
// Unconnected Send carries.
type CIPServiceRecord struct {
	Service     int    `json:"service"`
	ServiceName string `json:"service_name"`
	Class       *int   `json:"class"`
	Instance    *int   `json:"instance"`
	Attribute   *int   `json:"attribute"`
	Tag         string `json:"tag"`
}

// S7ItemRecord is one variable of an S7 read-var or write-var job.
type S7ItemRecord struct {
	Area     int    `json:"area"`
	AreaName string `json:"area_name"`
	DB       *int   `json:"db"`
	Address  int    `json:"address"`
	Bit      int    `json:"bit"`
	Size     int    `json:"size"`
	Count    int    `json:"count"`
}

// S7BlockRecord is the block an S7 download, upload or PI service names.
type S7BlockRecord struct {
	Type   string `json:"type"`
	Number int    `json:"number"`
}

// Summary says in a few words what the operation addressed, as the
// console's operations page and `sensorcore events` show it.
func (o *Operation) Summary() string {
	var p []string
	add := func(f string, a ...any) { p = append(p, fmt.Sprintf(f, a...)) }
	if o.Unit != nil {
		if o.Protocol == "iec104" {
			add("common address %d", *o.Unit)
		} else {
			add("unit %d", *o.Unit)
		}
	}
	if o.Address != nil {
		if o.Protocol == "iec104" {
			add("ioa %d", *o.Address)
		} else {
			add("address %d", *o.Address)
		}
	}
	if o.Quantity != nil {
		add("quantity %d", *o.Quantity)
	}
	if o.Cause != nil {
		add("cause %d", *o.Cause)
	}
	for _, ob := range o.Objects {
		switch {
		case ob.Group != nil && ob.Variation != nil:
			s := fmt.Sprintf("g%dv%d", *ob.Group, *ob.Variation)
			switch {
			case ob.Start != nil && ob.Stop != nil:
				s += fmt.Sprintf(" %d-%d", *ob.Start, *ob.Stop)
			case ob.Count != nil:
				s += fmt.Sprintf(" x%d", *ob.Count)
			case ob.All:
				s += " all"
			}
			p = append(p, s)
		case ob.Type != nil && ob.Instance != nil:
			t := ob.TypeName
			if t == "" {
				t = strconv.Itoa(*ob.Type)
			}
			s := fmt.Sprintf("%s:%d", t, *ob.Instance)
			if ob.PropertyName != "" {
				s += " " + ob.PropertyName
			} else if ob.Property != nil {
				s += " property " + strconv.Itoa(*ob.Property)
			}
			p = append(p, s)
		}
	}
	for _, c := range o.Controls {
		add("point %d %s", c.Index, c.Operation)
	}
	cip := func(class, instance, attribute *int, tag string) {
		if class != nil {
			add("class 0x%02x", *class)
		}
		if instance != nil {
			add("instance %d", *instance)
		}
		if attribute != nil {
			add("attribute %d", *attribute)
		}
		if tag != "" {
			add("tag %q", tag)
		}
	}
	cip(o.Class, o.Instance, o.Attribute, o.Tag)
	for i, s := range o.Services {
		if i == 8 {
			add("and %d more", len(o.Services)-i+o.MoreServices)
			break
		}
		n := s.ServiceName
		if n == "" {
			n = fmt.Sprintf("service 0x%02x", s.Service)
		}
		p = append(p, "["+n)
		cip(s.Class, s.Instance, s.Attribute, s.Tag)
		p[len(p)-1] += "]"
	}
	if o.UserdataName != "" {
		p = append(p, o.UserdataName)
	}
	for _, it := range o.Items {
		s := it.AreaName
		if s == "" {
			s = fmt.Sprintf("area 0x%02x", it.Area)
		}
		if it.DB != nil {
			s += strconv.Itoa(*it.DB)
		}
		p = append(p, fmt.Sprintf("%s byte %d x%d", s, it.Address, it.Count))
	}
	if o.Block != nil {
		add("block %s%d", o.Block.Type, o.Block.Number)
	}
	if o.Station != "" {
		add("station %q", o.Station)
	}
	if o.IP != "" {
		add("ip %s/%s gateway %s", o.IP, o.Mask, o.Gateway)
	}
	return strings.Join(p, ", ")
}

// Line is the operation on one line for people: time, protocol, ends,
// function, what it addressed, written values, result and latency.
func (o *Operation) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-7s %s -> %s", o.Time.UTC().Format(time.RFC3339Nano), o.Protocol, o.Client, o.Server)
	if o.Function != nil {
		fmt.Fprintf(&b, " %s(%d)", o.FunctionName, *o.Function)
	} else if o.UserdataName != "" {
		fmt.Fprintf(&b, " userdata")
	}
	if s := o.Summary(); s != "" {
		b.WriteString(" " + s)
	}
	if len(o.Values) > 0 {
		fmt.Fprintf(&b, " values %v", o.Values)
	}
	for _, k := range slices.Sorted(maps.Keys(o.Fields)) {
		fmt.Fprintf(&b, " %s=%s", k, o.Fields[k])
	}
	b.WriteString(" " + o.Result)
	if o.Status != nil {
		fmt.Fprintf(&b, " (%d)", *o.Status)
	}
	if o.LatencyUS != nil {
		fmt.Fprintf(&b, " %.3f ms", float64(*o.LatencyUS)/1000)
	}
	return b.String()
}
