package console

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestLimitsInDocs: docs/appliance.md states the console's limits and
// policy as the code has them.
func TestLimitsInDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/appliance.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(b)), " ")
	for _, want := range []string{
		fmt.Sprintf("(and the TLS handshake) must arrive within %d s, the whole request within %d s, the answer be taken within %d s; idle keep-alive connections close after %d s",
			int(ReadHeaderTimeout.Seconds()), int(ReadTimeout.Seconds()), int(WriteTimeout.Seconds()), int(IdleTimeout.Seconds())),
		fmt.Sprintf("headers are capped at %d KiB and form bodies at %d KiB", MaxHeaderBytes>>10, maxFormBytes>>10),
		fmt.Sprintf("At most %d connections are open, %d from one address", MaxConns, MaxConnsPerSource),
		"Content-Security-Policy: " + ContentSecurityPolicy + "`",
		"Referrer-Policy: same-origin",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/appliance.md does not say %q", want)
		}
	}
}
