package plugin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/plugin/plugintest"
)

// TestApplyAcceptedNeverLoadsTampered: a plugin file changed on disk
// after it was signed is refused by a new set (a restarted engine); given
// the version accepted before, the set runs that one and reports the
// file refused with it running. An accepted version that fails its own
// check (tampered too, or signed by a key no longer trusted) is not
// loaded either: nothing is decoded rather than something unverified.
func TestApplyAcceptedNeverLoadsTampered(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keys := []Key{{Name: "Plant A plugins", Public: pub}}
	good := plugintest.WorkedExample(t)
	sig, err := Sign(good, "Plant A plugins", priv, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(good, []byte("version: 1.0.0"), []byte("version: 1.0.1"), 1)
	onDisk := File{Name: "kilnnet.yaml", Data: tampered, Sig: sig}
	accepted := File{Name: "kilnnet.yaml", Data: good, Sig: sig}
	if _, err := Check(accepted, keys); err != nil {
		t.Fatalf("the signed file fails its check: %v", err)
	}
	if _, err := Check(onDisk, keys); err == nil || !strings.Contains(err.Error(), "changed after it was signed") {
		t.Fatalf("the tampered file: %v", err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	otherSig, _ := Sign(good, "Someone else", otherPriv, time.Now())

	for _, c := range []struct {
		name     string
		accepted []File
		loaded   string // the version running, "" for none
	}{
		{"no accepted version", nil, ""},
		{"the accepted version", []File{accepted}, "1.0.0"},
		{"an accepted version tampered too", []File{{Name: "kilnnet.yaml", Data: tampered, Sig: sig}}, ""},
		{"an accepted version of another key", []File{{Name: "kilnnet.yaml", Data: good, Sig: otherSig}}, ""},
		{"another file's accepted version", []File{{Name: "other.yaml", Data: good, Sig: sig}}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			set := NewSet(dissect.NewRegistry(), false)
			defer set.Close()
			st := set.ApplyAccepted([]File{onDisk}, c.accepted, keys, time.Now())
			if len(st.Refused) != 1 || st.Refused[0].File != "kilnnet.yaml" || st.Refused[0].Running != c.loaded {
				t.Fatalf("refused %+v, want kilnnet.yaml refused with %q running", st.Refused, c.loaded)
			}
			switch {
			case c.loaded == "" && len(st.Loaded) != 0:
				t.Fatalf("loaded %+v", st.Loaded)
			case c.loaded != "" && (len(st.Loaded) != 1 || st.Loaded[0].Version != c.loaded || st.Loaded[0].File != "kilnnet.yaml"):
				t.Fatalf("loaded %+v, want kilnnet.yaml %s", st.Loaded, c.loaded)
			}
		})
	}
}
