package site

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Root is the first token of every subject a sensor publishes.
const Root = "tapline"

// Kinds of message, the third token of a subject (after root, site and
// sensor): tapline.SITE.SENSOR.KIND[.KEY].
const (
	KindStatus = "status" // the sensor's status (latest kept)
	KindHealth = "health" // capture health (latest kept)
	KindAsset  = "asset"  // one asset's state, keyed (latest kept per asset)
	KindAlert  = "alert"  // one alert's state, keyed (latest kept per alert)
	KindAck    = "ack"    // an operator's acknowledgement of an alert, keyed like it
	KindOps    = "ops"    // a batch of operations log records (kept in order)
)

// MaxSiteLen bounds a site name (it is part of every stream's name).
const MaxSiteLen = 32

// CheckSiteName says why name cannot be a site's name, or nil: 1 to 32
// letters, digits, '-' or '_', starting with a letter or digit. It names
// streams and subjects, where a '.', a wildcard or a space would change
// what they match.
func CheckSiteName(name string) error {
	if name == "" {
		return fmt.Errorf("the site name is empty (a short name such as plant-a)")
	}
	if len(name) > MaxSiteLen {
		return fmt.Errorf("the site name %q is %d characters, over %d", name, len(name), MaxSiteLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '-' || c == '_'):
		default:
			return fmt.Errorf("the site name %q may hold only letters, digits, - and _ (starting with a letter or digit)", name)
		}
	}
	return nil
}

// Token encodes a sensor's name as one subject token: letters, digits,
// '-' and '_' stay, every other byte becomes ~XX (hex), so no name can
// add a token or a wildcard, and two names never share a token.
func Token(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "~%02X", c)
		}
	}
	return b.String()
}

// Untoken reverses Token; ok is false when tok is not one Token makes.
func Untoken(tok string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '~' {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", false
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(tok) {
			return "", false
		}
		v, err := hex.DecodeString(tok[i+1 : i+3])
		if err != nil || strings.ToUpper(tok[i+1:i+3]) != tok[i+1:i+3] {
			return "", false
		}
		b.WriteByte(v[0])
		i += 2
	}
	return b.String(), true
}

// Key is the subject token of an asset or alert: the first 16 hex
// digits of the SHA-256 of its id, fixed length whatever the id holds.
func Key(id string) string {
	s := sha256.Sum256([]byte(id))
	return hex.EncodeToString(s[:8])
}

// Subjects names one sensor's subjects at one site.
type Subjects struct {
	Site, Sensor string // the site's name (CheckSiteName) and the sensor's
}

func (s Subjects) prefix() string { return Root + "." + s.Site + "." + Token(s.Sensor) + "." }

// Status is tapline.SITE.SENSOR.status.
func (s Subjects) Status() string { return s.prefix() + KindStatus }

// Health is tapline.SITE.SENSOR.health.
func (s Subjects) Health() string { return s.prefix() + KindHealth }

// Ops is tapline.SITE.SENSOR.ops.
func (s Subjects) Ops() string { return s.prefix() + KindOps }

// Asset is tapline.SITE.SENSOR.asset.KEY for the asset id.
func (s Subjects) Asset(id string) string { return s.prefix() + KindAsset + "." + Key(id) }

// Alert is tapline.SITE.SENSOR.alert.KEY for the alert's key (Alert.Key).
func (s Subjects) Alert(key string) string { return s.prefix() + KindAlert + "." + key }

// Ack is tapline.SITE.SENSOR.ack.KEY: an acknowledgement of that alert.
func (s Subjects) Ack(key string) string { return s.prefix() + KindAck + "." + key }

// AckFilter matches every acknowledgement of the sensor's alerts:
// tapline.SITE.SENSOR.ack.*.
func (s Subjects) AckFilter() string { return s.prefix() + KindAck + ".*" }

// All matches every subject of the sensor: tapline.SITE.SENSOR.>.
func (s Subjects) All() string { return s.prefix() + ">" }

// InboxPrefix is where the sensor's replies (JetStream acknowledgements)
// come: _INBOX_SITE.SENSOR; the server lets it subscribe there only.
func (s Subjects) InboxPrefix() string { return "_INBOX_" + s.Site + "." + Token(s.Sensor) }

// Parsed is a subject taken apart.
type Parsed struct {
	Site, Sensor, Kind, Key string
}

// Parse takes a sensor subject apart; ok is false for any other subject.
func Parse(subject string) (Parsed, bool) {
	t := strings.Split(subject, ".")
	if len(t) < 4 || len(t) > 5 || t[0] != Root || CheckSiteName(t[1]) != nil {
		return Parsed{}, false
	}
	sensor, ok := Untoken(t[2])
	if !ok || sensor == "" {
		return Parsed{}, false
	}
	p := Parsed{Site: t[1], Sensor: sensor, Kind: t[3]}
	switch p.Kind {
	case KindStatus, KindHealth, KindOps:
		return p, len(t) == 4
	case KindAsset, KindAlert, KindAck:
		if len(t) != 5 || t[4] == "" {
			return Parsed{}, false
		}
		p.Key = t[4]
		return p, true
	}
	return Parsed{}, false
}
