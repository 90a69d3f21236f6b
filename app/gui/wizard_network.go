package gui

import (
	"errors"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// networkStep collects the sensor's network settings (FIELD-FACTS.md step
// 2); provision.Row.Settings and netconf validate them.
type networkStep struct {
	env Env
	wiz *wizardScreen

	ip, mask, gateway, dns, hostname, iface *widget.Entry
	reach                                   *widget.Entry // where the laptop finds the sensor afterwards
	proxy                                   *widget.Check
	proxyHost, proxyPort, proxyUser         *widget.Entry
	proxyPass                               *widget.Entry
	form                                    *widget.Form
}

func newNetworkStep(env Env, wiz *wizardScreen) *networkStep {
	s := &networkStep{env: env, wiz: wiz,
		ip: widget.NewEntry(), mask: widget.NewEntry(), gateway: widget.NewEntry(), dns: widget.NewEntry(),
		hostname: widget.NewEntry(), iface: widget.NewEntry(), reach: widget.NewEntry(),
		proxyHost: widget.NewEntry(), proxyPort: widget.NewEntry(), proxyUser: widget.NewEntry(), proxyPass: widget.NewPasswordEntry()}
	s.ip.SetPlaceHolder("empty: keep the current address")
	s.mask.SetPlaceHolder("255.255.255.0 or 24")
	s.gateway.SetPlaceHolder("192.0.2.1")
	s.dns.SetPlaceHolder("192.0.2.53, 192.0.2.54")
	s.hostname.SetPlaceHolder("sensor-01.plant.example (must match the plant's DNS)")
	s.iface.SetText("eth0")
	s.reach.SetPlaceHolder("empty: the new IP address (set it behind NAT or a port forward)")
	s.proxyPort.SetText("3128")
	s.proxyPass.SetPlaceHolder("kept in memory only")
	s.proxy = widget.NewCheck("Enable proxy", func(on bool) { s.syncProxy(); s.wiz.update() })
	for _, e := range []*widget.Entry{s.ip, s.mask, s.gateway, s.dns, s.hostname, s.iface, s.reach, s.proxyHost, s.proxyPort, s.proxyUser} {
		e.OnChanged = func(string) { s.wiz.update() }
		e.OnSubmitted = func(string) { s.wiz.onNext() }
	}
	s.syncProxy()
	return s
}

func (s *networkStep) syncProxy() {
	for _, e := range []*widget.Entry{s.proxyHost, s.proxyPort, s.proxyUser, s.proxyPass} {
		setEnabled(e, s.proxy.Checked)
	}
}

func (s *networkStep) title() string { return "Network" }

func (s *networkStep) content() fyne.CanvasObject {
	if s.form == nil {
		s.form = &widget.Form{Items: []*widget.FormItem{
			{Text: "IP address", Widget: s.ip},
			{Text: "Subnet mask", Widget: s.mask},
			{Text: "Default gateway", Widget: s.gateway},
			{Text: "DNS", Widget: s.dns, HintText: "comma-separated"},
			{Text: "Hostname", Widget: s.hostname, HintText: "the certificate's name, and the sensor's host name once pushed; required"},
			{Text: "Management interface", Widget: s.iface},
			{Text: "Reach it afterwards at", Widget: s.reach},
			{Text: "", Widget: s.proxy},
			{Text: "Proxy host", Widget: s.proxyHost},
			{Text: "Proxy port", Widget: s.proxyPort},
			{Text: "Proxy user", Widget: s.proxyUser},
			{Text: "Proxy password", Widget: s.proxyPass},
		}}
	}
	return container.NewVBox(s.form)
}

func (s *networkStep) enter() {}

// fill writes the page into row.
func (s *networkStep) fill(row *provision.Row) {
	row.Interface = strings.TrimSpace(s.iface.Text)
	row.NewIP = strings.TrimSpace(s.ip.Text)
	row.NewMask = strings.TrimSpace(s.mask.Text)
	row.NewGateway = strings.TrimSpace(s.gateway.Text)
	row.NewDNS = nil
	for _, d := range strings.Split(s.dns.Text, ",") {
		if d = strings.TrimSpace(d); d != "" {
			row.NewDNS = append(row.NewDNS, d)
		}
	}
	row.NewHostname = strings.TrimSpace(s.hostname.Text)
	row.NewAddress = strings.TrimSpace(s.reach.Text)
	row.Proxy = ""
	if s.proxy.Checked {
		u := "http://"
		if user := strings.TrimSpace(s.proxyUser.Text); user != "" {
			u += user + "@"
		}
		row.Proxy = u + strings.TrimSpace(s.proxyHost.Text) + ":" + strings.TrimSpace(s.proxyPort.Text)
	}
}

func (s *networkStep) ready() (bool, []certs.Finding) {
	if strings.TrimSpace(s.hostname.Text) == "" {
		return false, []certs.Finding{fieldProblem("Hostname", "Enter the sensor's FQDN as the plant's DNS knows it; the certificate must carry it.")}
	}
	if s.proxy.Checked {
		if p, err := strconv.Atoi(strings.TrimSpace(s.proxyPort.Text)); err != nil || p < 1 || p > 65535 || strings.TrimSpace(s.proxyHost.Text) == "" {
			return false, []certs.Finding{fieldProblem("Proxy", "Enter the proxy's host and a port from 1 to 65535, or clear Enable proxy.")}
		}
	}
	row := s.wiz.row()
	if _, err := row.Settings(); err != nil {
		return false, settingsFindings(err)
	}
	return true, nil
}

// settingsFindings lists each invalid setting netconf reported.
func settingsFindings(err error) []certs.Finding {
	var out []certs.Finding
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *netconf.FieldError
		if errors.As(e, &fe) {
			out = append(out, problem(provision.CodeNetwork, "Network setting "+fe.Field+" is not valid", fe.Msg))
			return
		}
		out = append(out, problem(provision.CodeNetwork, "The network settings are not valid", "Check each field of the Network page."))
	}
	walk(err)
	return out
}
