package site

import (
	"encoding/json"
	"fmt"
	"time"
)

// Headers every message carries besides Nats-Msg-Id.
const (
	// HeaderSeq is the message's sequence in the sensor's outbox
	// (decimal): strictly increasing per sensor, so a consumer sees the
	// order the sensor made them in, and the sensor learns from the last
	// operations batch the stream holds how far delivery got.
	HeaderSeq = "Tapline-Seq"
	// HeaderOutbox names the sensor's outbox (16 hex digits, made when
	// the outbox is first created); HeaderSeq counts within it.
	HeaderOutbox = "Tapline-Outbox"
)

// MsgID is the Nats-Msg-Id of a sensor's message: its outbox, then its
// sequence there. A message sent twice (after a lost acknowledgement)
// carries the same id, and JetStream stores it once.
func MsgID(outbox string, seq uint64) string { return fmt.Sprintf("%s-%d", outbox, seq) }

// Header opens every message.
type Header struct {
	Type     string    `json:"type"` // the subject's kind: status, health, asset, alert, ack, ops
	Site     string    `json:"site"`
	Sensor   string    `json:"sensor"`
	SensorID string    `json:"sensor_id,omitempty"`
	Time     time.Time `json:"time"` // when the sensor (or, for ack, the operator) made it
}

// Devices counts what a sensor discovered against its licence.
type Devices struct {
	Discovered int    `json:"discovered"` // assets in its inventory, routers included
	Licensed   int    `json:"licensed"`   // the activation file's device_count; 0 when not activated
	Plan       string `json:"plan,omitempty"`
}

// Over reports whether more devices were discovered than licensed.
func (d Devices) Over() bool { return d.Licensed > 0 && d.Discovered > d.Licensed }

// UplinkState is the uplink as the sensor sees it.
type UplinkState struct {
	Connected bool   `json:"connected"`
	Server    string `json:"server,omitempty"` // the server it is connected to
	Outbox    int    `json:"outbox"`           // messages waiting
	// Dropped counts operations the full outbox dropped since the sensor
	// started (docs/site.md, "Outbox").
	Dropped uint64 `json:"dropped"`
	Error   string `json:"error,omitempty"` // the last failure, while not connected
}

// Status is tapline.SITE.SENSOR.status: sent when it changes and every
// minute.
type Status struct {
	Header
	Version    string      `json:"version"`
	Generation int         `json:"generation"`
	Plan       string      `json:"plan,omitempty"`
	Zone       string      `json:"zone,omitempty"`
	Expires    *time.Time  `json:"activation_expires,omitempty"`
	Devices    Devices     `json:"devices"`
	Uplink     UplinkState `json:"uplink"`
	// Certificate is the SHA-256 fingerprint the console serves.
	Certificate string `json:"certificate_sha256,omitempty"`
}

// Health is tapline.SITE.SENSOR.health: capture health, every 10 s.
type Health struct {
	Header
	Monitoring bool    `json:"monitoring"`        // a monitor runs
	Capture    string  `json:"capture,omitempty"` // the sanity line
	Error      string  `json:"error,omitempty"`
	Packets    uint64  `json:"packets"`
	Rate       float64 `json:"packets_per_s"` // over the last interval
	Drops      uint64  `json:"drops"`         // kernel drops
	Malformed  uint64  `json:"malformed"`
	// Protocols counts PDUs per protocol seen since the monitor started.
	Protocols map[string]uint64 `json:"protocols,omitempty"`
}

// Identity is what traffic revealed about a device (as the sensor's
// inventory has it).
type Identity struct {
	Vendor   string `json:"vendor,omitempty"`
	Model    string `json:"model,omitempty"`
	Firmware string `json:"firmware,omitempty"`
	Serial   string `json:"serial,omitempty"`
	Name     string `json:"name,omitempty"`
}

// Asset is one device as the sensor's inventory holds it.
type Asset struct {
	ID        string    `json:"id"` // ip:ADDR or mac:ADDR
	MAC       string    `json:"mac,omitempty"`
	IPs       []string  `json:"ips,omitempty"`
	Vendor    string    `json:"vendor,omitempty"`
	Router    bool      `json:"router,omitempty"`
	Hostname  string    `json:"hostname,omitempty"`
	Protocols []string  `json:"protocols,omitempty"`
	Roles     []string  `json:"roles,omitempty"`
	Identity  Identity  `json:"identity"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// AssetMessage is tapline.SITE.SENSOR.asset.KEY, KEY = Key(Asset.ID).
type AssetMessage struct {
	Header
	Asset Asset `json:"asset"`
}

// Alert is one alert as the sensor holds it, with its site-wide key.
type Alert struct {
	// Key identifies the alert across restarts of the sensor's monitor
	// (AlertKey); ID is the sensor's own number for it.
	Key      string    `json:"key"`
	ID       uint64    `json:"id"`
	Time     time.Time `json:"time"`
	LastSeen time.Time `json:"last_seen"`
	Count    uint64    `json:"count"`
	Severity string    `json:"severity"`
	Rule     string    `json:"rule"`
	Title    string    `json:"title"`
	Message  string    `json:"message"`
	Protocol string    `json:"protocol,omitempty"`
	Function *int      `json:"function,omitempty"`
	Src      string    `json:"src,omitempty"`
	Dst      string    `json:"dst,omitempty"`
	Status   string    `json:"status"` // new or acknowledged
}

// AlertKey is an alert's key: Key over its rule, addresses, protocol,
// function and first time, which the sensor's monitor keeps for it.
func AlertKey(a Alert) string {
	fn := ""
	if a.Function != nil {
		fn = fmt.Sprint(*a.Function)
	}
	return Key(a.Rule + "|" + a.Src + "|" + a.Dst + "|" + a.Protocol + "|" + fn + "|" + a.Time.UTC().Format(time.RFC3339Nano))
}

// AlertMessage is tapline.SITE.SENSOR.alert.KEY.
type AlertMessage struct {
	Header
	Alert Alert `json:"alert"`
}

// Ack is tapline.SITE.SENSOR.ack.KEY: an operator acknowledged the
// sensor's alert KEY from the site view. Header.Sensor is the alert's
// sensor; Time is when it was acknowledged.
type Ack struct {
	Header
	Key  string `json:"key"`
	By   string `json:"by"` // who, as the operator's app names them
	Note string `json:"note,omitempty"`
}

// Operation is the part of an operations log record the site view
// reads; the batch carries each record whole (docs/monitoring.md).
type Operation struct {
	ID           string    `json:"id"`
	Time         time.Time `json:"time"`
	Protocol     string    `json:"protocol"`
	Client       End       `json:"client"`
	Server       End       `json:"server"`
	Function     int       `json:"function"`
	FunctionName string    `json:"function_name,omitempty"`
	Action       string    `json:"action,omitempty"`
	Result       string    `json:"result,omitempty"`
	LatencyUS    int64     `json:"latency_us,omitempty"`
}

// End is one side of an operation.
type End struct {
	IP   string `json:"ip"`
	Port int    `json:"port,omitempty"`
	MAC  string `json:"mac,omitempty"`
}

// Ops is tapline.SITE.SENSOR.ops: operations log records in the order
// the sensor logged them.
type Ops struct {
	Header
	// Dropped counts records the sensor's full outbox dropped just
	// before this batch (docs/site.md, "Outbox"): a gap, said where it is.
	Dropped    uint64            `json:"dropped,omitempty"`
	Operations []json.RawMessage `json:"operations"`
}

// Decode reads a message of the kind its subject names, checking that
// the JSON says the same type, site and sensor as the subject: a message
// that claims another sensor than the subject it came on is refused.
func Decode(p Parsed, data []byte) (any, error) {
	var v any
	var h *Header
	switch p.Kind {
	case KindStatus:
		m := &Status{}
		v, h = m, &m.Header
	case KindHealth:
		m := &Health{}
		v, h = m, &m.Header
	case KindAsset:
		m := &AssetMessage{}
		v, h = m, &m.Header
	case KindAlert:
		m := &AlertMessage{}
		v, h = m, &m.Header
	case KindAck:
		m := &Ack{}
		v, h = m, &m.Header
	case KindOps:
		m := &Ops{}
		v, h = m, &m.Header
	default:
		return nil, fmt.Errorf("site: unknown message kind %q", p.Kind)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("site: %s message: %v", p.Kind, err)
	}
	if h.Type != p.Kind || h.Site != p.Site || h.Sensor != p.Sensor {
		return nil, fmt.Errorf("site: a %s message on %s's subject says type %q, site %q, sensor %q", p.Kind, p.Sensor, h.Type, h.Site, h.Sensor)
	}
	switch m := v.(type) {
	case *AssetMessage:
		if Key(m.Asset.ID) != p.Key {
			return nil, fmt.Errorf("site: asset %q came on the key %s, not its own", m.Asset.ID, p.Key)
		}
	case *AlertMessage:
		if m.Alert.Key != p.Key {
			return nil, fmt.Errorf("site: alert %s came on the key %s", m.Alert.Key, p.Key)
		}
	case *Ack:
		if m.Key != p.Key {
			return nil, fmt.Errorf("site: acknowledgement of %s came on the key %s", m.Key, p.Key)
		}
	}
	return v, nil
}
