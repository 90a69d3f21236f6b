package site

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StateStream is the name of a site's stream of latest states (status,
// health, assets, alerts, acknowledgements): TAPLINE_SITE_STATE.
func StateStream(site string) string { return "TAPLINE_" + site + "_STATE" }

// OpsStream is the name of a site's operations stream: TAPLINE_SITE_OPS.
func OpsStream(site string) string { return "TAPLINE_" + site + "_OPS" }

// Limits size a site's streams. Zero values take the defaults.
type Limits struct {
	Replicas      int           // 1 for one node, 3 for a three-node cluster (default 1)
	OpsRetention  time.Duration // how long operations are kept (default 30 days)
	OpsMaxBytes   int64         // and at most this much of them (default 100 GiB)
	StateMaxBytes int64         // the state stream's bound (default 4 GiB)
	// Duplicates is JetStream's de-duplication window on Nats-Msg-Id
	// (default 10 minutes). The operations stream does not rely on it
	// alone: each sensor publishes there in order, stating the sequence
	// it expects last on its subject (docs/site.md).
	Duplicates time.Duration
}

// Defaults for Limits.
const (
	DefaultOpsRetention  = 30 * 24 * time.Hour
	DefaultOpsMaxBytes   = 100 << 30
	DefaultStateMaxBytes = 4 << 30
	DefaultDuplicates    = 10 * time.Minute
	// MaxMessage bounds one message: a batch of operations stays below it
	// (the servers' max_payload, site init).
	MaxMessage = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.Replicas <= 0 {
		l.Replicas = 1
	}
	if l.OpsRetention <= 0 {
		l.OpsRetention = DefaultOpsRetention
	}
	if l.OpsMaxBytes <= 0 {
		l.OpsMaxBytes = DefaultOpsMaxBytes
	}
	if l.StateMaxBytes <= 0 {
		l.StateMaxBytes = DefaultStateMaxBytes
	}
	if l.Duplicates <= 0 {
		l.Duplicates = DefaultDuplicates
	}
	return l
}

// Streams returns the two streams a site's servers hold, as JetStream
// creates them. The state stream keeps the latest message of each
// subject (one per sensor status, asset, alert); the operations stream
// keeps every batch for the retention period.
func Streams(site string, l Limits) ([]jetstream.StreamConfig, error) {
	if err := CheckSiteName(site); err != nil {
		return nil, err
	}
	l = l.withDefaults()
	if l.Replicas > 5 {
		return nil, fmt.Errorf("%d replicas: JetStream keeps at most 5", l.Replicas)
	}
	p := Root + "." + site + ".*."
	return []jetstream.StreamConfig{
		{
			Name:              StateStream(site),
			Description:       "Tapline site " + site + ": the latest status, health, asset, alert and acknowledgement of every sensor",
			Subjects:          []string{p + KindStatus, p + KindHealth, p + KindAsset + ".*", p + KindAlert + ".*", p + KindAck + ".*"},
			Retention:         jetstream.LimitsPolicy,
			MaxMsgsPerSubject: 1,
			MaxBytes:          l.StateMaxBytes,
			MaxMsgSize:        MaxMessage,
			Discard:           jetstream.DiscardOld,
			Storage:           jetstream.FileStorage,
			Replicas:          l.Replicas,
			Duplicates:        l.Duplicates,
			AllowDirect:       true,
		},
		{
			Name:        OpsStream(site),
			Description: "Tapline site " + site + ": every sensor's operations log, in batches",
			Subjects:    []string{p + KindOps},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      l.OpsRetention,
			MaxBytes:    l.OpsMaxBytes,
			MaxMsgSize:  MaxMessage,
			Discard:     jetstream.DiscardOld,
			Storage:     jetstream.FileStorage,
			Replicas:    l.Replicas,
			Duplicates:  l.Duplicates,
			AllowDirect: true,
			Compression: jetstream.S2Compression,
		},
	}, nil
}

// Permissions are what a NATS user may publish and subscribe to.
type Permissions struct {
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
}

// SensorPermissions are a sensor's, and nothing more: publish its own
// subjects (not acknowledgements, which are the operators'), ask for the
// last operations batch on its own subject (how it learns, after a
// reconnect, what the stream already holds), and receive replies on its
// own inbox. A sensor can neither read another's messages nor write as
// another.
//
// To follow the operators' acknowledgements of its own alerts, a sensor
// may create one durable consumer on the state stream, named
// AckConsumer(sensor) and filtered to its own ack subjects (the server
// checks both in the API subject), pull from it and acknowledge what it
// read: nothing of another sensor's, and no other consumer.
func SensorPermissions(site, sensor string) Permissions {
	s := Subjects{Site: site, Sensor: sensor}
	pre := Root + "." + site + "." + Token(sensor) + "."
	state, ack := StateStream(site), AckConsumer(sensor)
	return Permissions{
		Publish: []string{pre + KindStatus, pre + KindHealth, pre + KindAsset + ".*", pre + KindAlert + ".*", pre + KindOps,
			"$JS.API.DIRECT.GET." + OpsStream(site) + "." + s.Ops(),
			"$JS.API.CONSUMER.CREATE." + state + "." + ack + "." + s.AckFilter(),
			"$JS.API.CONSUMER.MSG.NEXT." + state + "." + ack,
			"$JS.ACK." + state + "." + ack + ".>"},
		Subscribe: []string{s.InboxPrefix() + ".>"},
	}
}

// AckConsumer names the durable consumer on the state stream through
// which a sensor reads the acknowledgements of its own alerts:
// ack_SENSOR (the sensor's subject token).
func AckConsumer(sensor string) string { return "ack_" + Token(sensor) }

// ViewerPermissions are the app's and `tapline site`'s: read the site's
// streams through consumers of their own, and acknowledge alerts.
func ViewerPermissions(site string) Permissions {
	var pub []string
	for _, st := range []string{StateStream(site), OpsStream(site)} {
		pub = append(pub,
			"$JS.API.STREAM.INFO."+st,
			"$JS.API.CONSUMER.CREATE."+st+".>",
			"$JS.API.CONSUMER.INFO."+st+".>",
			"$JS.API.CONSUMER.DELETE."+st+".>",
			"$JS.API.CONSUMER.MSG.NEXT."+st+".>",
			"$JS.API.DIRECT.GET."+st+".>",
			"$JS.ACK."+st+".>")
	}
	pub = append(pub, "$JS.API.INFO", Root+"."+site+".*."+KindAck+".*")
	return Permissions{Publish: pub, Subscribe: []string{"_INBOX.>"}}
}

// AdminPermissions are for creating and updating the site's streams
// (`tapline site streams`): the whole JetStream API of the account.
func AdminPermissions() Permissions {
	return Permissions{Publish: []string{"$JS.API.>"}, Subscribe: []string{"_INBOX.>"}}
}
