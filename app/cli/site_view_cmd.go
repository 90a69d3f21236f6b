package cli

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/siteview"
)

// siteViewCommands are "site status|assets|alerts|events": the site as
// its streams hold it now.
func siteViewCommands() []*Command {
	common := []FlagGroup{{"The site", []string{"site-file FILE", "timeout DURATION"}}, outputGroup}
	exit := []ExitCode{{ExitOK, "the site was read"}, {ExitVerdict, "the servers could not be reached or refused"}, {ExitUsage, "usage error, or an unreadable site.json"}}
	return []*Command{
		{Name: "status", Summary: "every sensor with its health, and the site's devices against its licence",
			Groups: common, Required: []string{"site-file"}, Exit: exit, Run: runSiteView("status"),
			Examples: []Example{{"", "tapline site status --site-file plant-a-nats/site.json"}}},
		{Name: "assets", Summary: "one asset table across sensors (a device seen by two sensors is one row naming both)",
			Groups: common, Required: []string{"site-file"}, Exit: exit, Run: runSiteView("assets"),
			Examples: []Example{{"", "tapline site assets --site-file plant-a-nats/site.json --json"}}},
		{Name: "alerts", Summary: "the alerts of every sensor; filter them, or acknowledge one",
			Usage:    "--site-file FILE [--sensor NAME] [--severity LEVEL] [--open] [--grep TEXT] [--ack SENSOR/KEY [--note TEXT]] [flags]",
			Groups:   append(common, FlagGroup{"Filter", []string{"sensor NAME", "severity LEVEL", "open", "grep TEXT"}}, FlagGroup{"Acknowledge", []string{"ack SENSOR/KEY", "note TEXT", "by NAME"}}),
			Required: []string{"site-file"}, Exit: exit, Run: runSiteView("alerts"),
			Examples: []Example{{"Open critical alerts", "tapline site alerts --site-file plant-a-nats/site.json --open --severity critical"},
				{"Acknowledge one", "tapline site alerts --site-file plant-a-nats/site.json --ack sensor-01/9e0c5d1f4b2a7c33 --note 'planned stop'"}}},
		{Name: "events", Summary: "the operations log of every sensor, searchable by device",
			Groups:   append(common, FlagGroup{"Filter", []string{"device IP", "last N"}}),
			Required: []string{"site-file"}, Exit: exit, Run: runSiteView("events"),
			Examples: []Example{{"What happened to one PLC", "tapline site events --site-file plant-a-nats/site.json --device 192.0.2.40"}}},
	}
}

func runSiteView(what string) func(env *Env, args []string) int {
	return func(env *Env, args []string) int {
		name := "site " + what
		fs := newFlags(env, name)
		siteFile := fs.String("site-file", "", "the site's site.json (tapline site init)")
		timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the servers")
		asJSON := fs.Bool("json", false, "print JSON")
		sensor, severity, grep, ack, note, by := new(string), new(string), new(string), new(string), new(string), new(string)
		open, device, last := new(bool), new(string), new(int)
		switch what {
		case "alerts":
			sensor = fs.String("sensor", "", "only this sensor's")
			severity = fs.String("severity", "", "at least: low, medium, high or critical")
			open = fs.Bool("open", false, "only those nobody acknowledged")
			grep = fs.String("grep", "", "only those whose title, message, rule or addresses hold this text")
			ack = fs.String("ack", "", "acknowledge SENSOR/KEY (the key as listed)")
			note = fs.String("note", "", "a note with the acknowledgement")
			by = fs.String("by", "", "who acknowledges (default: the user and host)")
		case "events":
			device = fs.String("device", "", "only operations where this IP is the client or the server")
			last = fs.Int("last", 200, "at most the last N operations (0: all held)")
		}
		if code, ok := fs.parse(args); !ok {
			return code
		}
		sc, err := siteconf.ReadSiteConfig(*siteFile)
		if err != nil {
			env.Errorf("%s: %v", name, err)
			return ExitUsage
		}
		cl, err := sc.Viewer("tapline " + name)
		if err != nil {
			env.Errorf("%s: %s: %v", name, *siteFile, err)
			return ExitUsage
		}
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		r, err := siteview.Open(cl, sc.Site, 0)
		if err != nil {
			env.Errorf("%s: %v", name, err)
			return ExitVerdict
		}
		defer r.Close()
		if err := r.Load(ctx, 0); err != nil {
			env.Errorf("%s: %v", name, err)
			return ExitVerdict
		}
		m := r.Model
		w := tabwriter.NewWriter(env.Stdout, 0, 2, 2, ' ', 0)
		defer w.Flush()
		switch what {
		case "status":
			l := m.Licence(sc.Licensed)
			if *asJSON {
				return printJSON(env.Stdout, map[string]any{"site": sc.Site, "licence": l, "sensors": m.Sensors()})
			}
			fmt.Fprintf(w, "site %s: %d devices discovered, %d licensed", sc.Site, l.Discovered, l.Licensed)
			if l.Over {
				fmt.Fprintf(w, ": the site has outgrown its licence; ask for a larger plan")
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "SENSOR\tLAST SEEN\tPACKETS/S\tDROPS\tDEVICES\tPROTOCOLS\tUPLINK")
			for _, s := range m.Sensors() {
				rate, drops, protos, devs, up := "-", "-", "-", "-", "-"
				if h := s.Health; h != nil {
					rate, drops = fmt.Sprintf("%.0f", h.Rate), fmt.Sprint(h.Drops)
					var ps []string
					for p := range h.Protocols {
						ps = append(ps, p)
					}
					sort.Strings(ps)
					protos = strings.Join(ps, ",")
				}
				if st := s.Status; st != nil {
					devs = fmt.Sprintf("%d/%d", st.Devices.Discovered, st.Devices.Licensed)
					up = fmt.Sprintf("outbox %d, dropped %d", st.Uplink.Outbox, st.Uplink.Dropped)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, ago(env.Now(), s.LastSeen), rate, drops, devs, protos, up)
			}
		case "assets":
			as := m.Assets()
			if *asJSON {
				return printJSON(env.Stdout, as)
			}
			fmt.Fprintln(w, "ASSET\tMAC\tVENDOR\tPROTOCOLS\tROLES\tIDENTITY\tSENSORS\tLAST SEEN")
			for _, a := range as {
				id := strings.TrimSpace(a.Identity.Vendor + " " + a.Identity.Model + " " + a.Identity.Firmware)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.MAC, a.Vendor, strings.Join(a.Protocols, ","), strings.Join(a.Roles, ","), id,
					strings.Join(a.Sensors, ","), a.LastSeen.UTC().Format(time.RFC3339))
			}
		case "alerts":
			if *ack != "" {
				s, key, ok := strings.Cut(*ack, "/")
				if !ok || s == "" || key == "" {
					env.Errorf("%s: --ack %q: give SENSOR/KEY as listed", name, *ack)
					return ExitUsage
				}
				if *by == "" {
					h, _ := os.Hostname()
					*by = env.Getenv("USER") + "@" + h
				}
				if err := r.Ack(ctx, s, key, *by, *note, env.Now()); err != nil {
					env.Errorf("%s: %v", name, err)
					return ExitVerdict
				}
			}
			al := m.Alerts(siteview.AlertFilter{Sensor: *sensor, MinSeverity: *severity, Open: *open, Text: *grep})
			if *asJSON {
				return printJSON(env.Stdout, al)
			}
			fmt.Fprintln(w, "SENSOR/KEY\tSEVERITY\tLAST SEEN\tCOUNT\tSTATUS\tTITLE\tSRC > DST")
			for _, a := range al {
				status := a.Status
				if a.Ack != nil {
					status = "acknowledged by " + a.Ack.By
				}
				fmt.Fprintf(w, "%s/%s\t%s\t%s\t%d\t%s\t%s\t%s > %s\n", a.Sensor, a.Key, a.Severity, a.LastSeen.UTC().Format(time.RFC3339), a.Count, status, a.Title, a.Src, a.Dst)
			}
		case "events":
			ops := m.Operations(*device, *last)
			if *asJSON {
				return printJSON(env.Stdout, ops)
			}
			fmt.Fprintln(w, "TIME\tPROTOCOL\tCLIENT > SERVER\tFUNCTION\tRESULT\tSENSORS")
			for _, o := range ops {
				fn := o.FunctionName
				if fn == "" {
					fn = fmt.Sprint(o.Function)
				}
				fmt.Fprintf(w, "%s\t%s\t%s > %s\t%s\t%s\t%s\n", o.Time.UTC().Format(time.RFC3339Nano), o.Protocol, o.Client.IP, o.Server.IP, fn, o.Result, strings.Join(o.Sensors, ","))
			}
		}
		return ExitOK
	}
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}
