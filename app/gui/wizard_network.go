package gui

import (
	"errors"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/site"
)

// Network page fields, in the page's words: the keys of its notes.
const (
	fieldIP        = "IP address"
	fieldMask      = "Subnet mask"
	fieldGateway   = "Default gateway"
	fieldDNS       = "DNS"
	fieldHostname  = "Hostname"
	fieldInterface = "Management interface"
	fieldReach     = "Reach it afterwards at"
	fieldProxyHost = "Proxy host"
	fieldProxyPort = "Proxy port"
	fieldProxyUser = "Proxy user"
	fieldProxyPass = "Proxy password"
	fieldProxyCert = "Client certificate" // the proxy's, for a proxy that inspects TLS
	fieldProxyKey  = "Client key"
	fieldUplink    = "Site uplink"   // the site's site.json (tapline site init)
	fieldUpFiles   = "Uplink client" // the sensor's own client certificate, key and credential
	fieldUpKey     = "Uplink client key"
	fieldUpCred    = "Uplink credential"
	fieldNetwork   = "Network" // a problem no single field owns
)

// networkFields maps netconf's settings.json paths (FieldError.Field) to
// the page's fields, and says how each is fixed on this page.
var networkFields = map[string]struct{ label, fix string }{
	"network.address":   {fieldIP, "Enter the sensor's new IPv4 or IPv6 address, such as 192.0.2.11, or leave it empty to keep the address on the Connect page."},
	"network.mask":      {fieldMask, "Enter the prefix length, such as 24, or the dotted mask, such as 255.255.255.0."},
	"network.gateway":   {fieldGateway, "Enter the router's address inside the sensor's subnet (IP address and Subnet mask), or leave it empty."},
	"network.dns":       {fieldDNS, "Enter the DNS servers' addresses separated by commas, such as 192.0.2.53, 192.0.2.54."},
	"network.hostname":  {fieldHostname, "Enter the sensor's FQDN as the plant's DNS knows it, such as sensor-01.plant.example."},
	"network.interface": {fieldInterface, "Enter the management interface as the sensor names it, such as eth0."},
	"proxy":             {fieldProxyHost, "Enter the proxy's host name or IP address, or clear Enable proxy."},
	"proxy.host":        {fieldProxyHost, "Enter the proxy's host name or IP address, or clear Enable proxy."},
	"proxy.port":        {fieldProxyPort, "Enter the proxy's port, from 1 to 65535 (3128 is usual)."},
	"proxy.username":    {fieldProxyUser, "Enter the user the proxy password belongs to, or clear the password."},
	"proxy.client_cert": {fieldProxyCert, "Choose both the client certificate and its key, or neither."},
	"uplink":            {fieldUplink, "Choose the site.json that tapline site init wrote for the site, or leave it empty for no uplink."},
	"uplink.site":       {fieldUplink, "Choose the site.json that tapline site init wrote for the site, or leave it empty for no uplink."},
	"uplink.servers":    {fieldUplink, "Run tapline site init again: the site.json's servers are not usable."},
	"uplink_cert":       {fieldUpFiles, "Choose both the uplink client certificate and its key, or neither (site init's files for this sensor)."},
}

// networkStep collects the sensor's network settings (docs/field-facts.md step
// 2); provision.Row.Settings and netconf validate them, and each problem
// shows under its field.
type networkStep struct {
	env Env
	wiz *wizardScreen

	ip, mask, gateway, dns, hostname, iface *widget.Entry
	reach                                   *widget.Entry // where the laptop finds the sensor afterwards
	proxy                                   *widget.Check
	proxyHost, proxyPort, proxyUser         *widget.Entry
	proxyPass                               *widget.Entry
	proxyCert, proxyKey                     *widget.Entry // the client certificate a TLS-inspecting proxy asks for
	proxyBrowse                             []*widget.Button
	// The site uplink: site.json and, optionally, the sensor's own client
	// certificate, key and credential instead of those site init made.
	uplink, upCert, upKey, upCred *widget.Entry
	upBrowse                      []*widget.Button
	form                          *widget.Form
	notes                         notes
	page                          *fyne.Container
	entries                       map[string]*widget.Entry // field -> entry
	// tried: Next was pressed on this page, so its checks run as the
	// engineer types (a note goes the moment its cause is fixed).
	tried bool
}

func newNetworkStep(env Env, wiz *wizardScreen) *networkStep {
	s := &networkStep{env: env, wiz: wiz,
		ip: widget.NewEntry(), mask: widget.NewEntry(), gateway: widget.NewEntry(), dns: widget.NewEntry(),
		hostname: widget.NewEntry(), iface: widget.NewEntry(), reach: widget.NewEntry(),
		proxyHost: widget.NewEntry(), proxyPort: widget.NewEntry(), proxyUser: widget.NewEntry(), proxyPass: widget.NewPasswordEntry(),
		proxyCert: widget.NewEntry(), proxyKey: widget.NewEntry(),
		uplink: widget.NewEntry(), upCert: widget.NewEntry(), upKey: widget.NewEntry(), upCred: widget.NewEntry()}
	s.uplink.SetPlaceHolder("optional: the site's site.json (tapline site init)")
	s.upCert.SetPlaceHolder("certificate")
	s.upKey.SetPlaceHolder("its key (PEM)")
	s.upCred.SetPlaceHolder("NKEY seed or .creds")
	s.ip.SetPlaceHolder("empty: keep the current address")
	s.mask.SetPlaceHolder("24")
	s.gateway.SetPlaceHolder("192.0.2.1")
	s.dns.SetPlaceHolder("192.0.2.53, 192.0.2.54")
	s.hostname.SetPlaceHolder("sensor-01.plant.example (must match the plant's DNS)")
	s.iface.SetText("eth0")
	s.reach.SetPlaceHolder("empty: the new IP address")
	s.proxyHost.SetPlaceHolder("proxy.plant.example")
	s.proxyPort.SetText("3128")
	s.proxyPass.SetPlaceHolder("kept in memory only")
	s.proxyCert.SetPlaceHolder("optional: proxy-client.crt (PEM or DER)")
	s.proxyKey.SetPlaceHolder("its private key (PEM)")
	s.proxy = widget.NewCheck("Enable proxy", func(on bool) { s.syncProxy(); s.revalidate(); s.wiz.update() })
	s.entries = map[string]*widget.Entry{fieldIP: s.ip, fieldMask: s.mask, fieldGateway: s.gateway, fieldDNS: s.dns,
		fieldHostname: s.hostname, fieldInterface: s.iface, fieldReach: s.reach, fieldProxyHost: s.proxyHost,
		fieldProxyPort: s.proxyPort, fieldProxyUser: s.proxyUser, fieldProxyPass: s.proxyPass,
		fieldProxyCert: s.proxyCert, fieldProxyKey: s.proxyKey,
		fieldUplink: s.uplink, fieldUpFiles: s.upCert, fieldUpKey: s.upKey, fieldUpCred: s.upCred}
	for _, e := range []*widget.Entry{s.uplink, s.upCert, s.upKey, s.upCred} {
		s.upBrowse = append(s.upBrowse, widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { s.env.openFile(e.SetText) }))
	}
	for _, e := range []*widget.Entry{s.proxyCert, s.proxyKey} {
		s.proxyBrowse = append(s.proxyBrowse, widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { s.env.openFile(e.SetText) }))
	}
	for _, e := range s.entries {
		e.OnChanged = func(string) { s.revalidate(); s.wiz.update() }
		e.OnSubmitted = func(string) { s.wiz.onNext() }
	}
	s.syncProxy()
	return s
}

func (s *networkStep) syncProxy() {
	for _, e := range []*widget.Entry{s.proxyHost, s.proxyPort, s.proxyUser, s.proxyPass, s.proxyCert, s.proxyKey} {
		setEnabled(e, s.proxy.Checked)
	}
	for _, b := range s.proxyBrowse {
		setEnabled(b, s.proxy.Checked)
	}
	if !s.proxy.Checked {
		s.notes.clear(fieldProxyHost, fieldProxyPort, fieldProxyUser, fieldProxyPass, fieldProxyCert, fieldProxyKey)
	}
}

func (s *networkStep) title() string { return "Network" }

func (s *networkStep) content() fyne.CanvasObject {
	if s.page == nil {
		item := func(field, hint string) *widget.FormItem {
			e := s.entries[field]
			return &widget.FormItem{Text: field, Widget: s.notes.under(field, e, e), HintText: hint}
		}
		pick := func(field string, i int, hint string) *widget.FormItem {
			e := s.entries[field]
			return &widget.FormItem{Text: field, Widget: s.notes.under(field, newBorder(nil, nil, nil, s.proxyBrowse[i], e), e), HintText: hint}
		}
		upPick := func(field string, i int, hint string) *widget.FormItem {
			e := s.entries[field]
			return &widget.FormItem{Text: field, Widget: s.notes.under(field, newBorder(nil, nil, nil, s.upBrowse[i], e), e), HintText: hint}
		}
		s.form = &widget.Form{Items: []*widget.FormItem{
			item(fieldIP, ""),
			item(fieldMask, "a prefix length such as 24, or a dotted mask such as 255.255.255.0"),
			item(fieldGateway, ""),
			item(fieldDNS, "comma-separated"),
			item(fieldHostname, "the certificate's name, and the sensor's host name once pushed; required"),
			item(fieldInterface, ""),
			item(fieldReach, "where this laptop reconnects to confirm the change; set it only behind NAT or a port forward"),
			upPick(fieldUplink, 0, "the sensor streams its devices, alerts and operations to the site's NATS servers (docs/site.md); empty: no uplink"),
			{Text: fieldUpFiles, Widget: s.notes.under(fieldUpFiles, container.NewGridWithColumns(3,
				newBorder(nil, nil, nil, s.upBrowse[1], s.upCert), newBorder(nil, nil, nil, s.upBrowse[2], s.upKey),
				newBorder(nil, nil, nil, s.upBrowse[3], s.upCred)), s.upCert),
				HintText: "optional: the sensor's own client certificate, its key and its credential; empty: those site init made for it"},
			{Text: "", Widget: s.proxy, HintText: "an HTTP proxy for the sensor's own outbound requests (the CRL)"},
			item(fieldProxyHost, ""),
			item(fieldProxyPort, ""),
			item(fieldProxyUser, ""),
			item(fieldProxyPass, ""),
			pick(fieldProxyCert, 0, "for a proxy that inspects TLS: the certificate the sensor shows it, and its key"),
			pick(fieldProxyKey, 1, ""),
		}}
		s.page = container.NewVBox(s.form, s.notes.at(fieldNetwork, nil))
	}
	return s.page
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
	row.ProxyPassword = ""
	if s.proxy.Checked {
		u := "http://"
		if user := strings.TrimSpace(s.proxyUser.Text); user != "" {
			u += user + "@"
		}
		row.Proxy = u + strings.TrimSpace(s.proxyHost.Text) + ":" + strings.TrimSpace(s.proxyPort.Text)
		row.ProxyPassword = s.proxyPass.Text
		row.ProxyCert, row.ProxyKey = strings.TrimSpace(s.proxyCert.Text), strings.TrimSpace(s.proxyKey.Text)
	} else {
		row.ProxyCert, row.ProxyKey = "", ""
	}
	row.Uplink, row.UplinkCert, row.UplinkKey, row.UplinkCredential = "", "", "", ""
	if u := strings.TrimSpace(s.uplink.Text); u != "" {
		row.Uplink = u
		row.UplinkCert, row.UplinkKey = strings.TrimSpace(s.upCert.Text), strings.TrimSpace(s.upKey.Text)
		row.UplinkCredential = strings.TrimSpace(s.upCred.Text)
	}
}

// validate shows every problem of the page under its field and reports
// whether there is none.
func (s *networkStep) validate() bool {
	s.notes.clear()
	byField := map[string][]certs.Finding{}
	if strings.TrimSpace(s.hostname.Text) == "" {
		byField[fieldHostname] = append(byField[fieldHostname], fieldProblem(fieldHostname, "Enter the sensor's FQDN as the plant's DNS knows it; the certificate must carry it."))
	}
	if s.proxy.Checked {
		if strings.TrimSpace(s.proxyHost.Text) == "" {
			byField[fieldProxyHost] = append(byField[fieldProxyHost], fieldProblem(fieldProxyHost, "Enter the proxy's host name or IP address, or clear Enable proxy."))
		}
		if p, err := strconv.Atoi(strings.TrimSpace(s.proxyPort.Text)); err != nil || p < 1 || p > 65535 {
			byField[fieldProxyPort] = append(byField[fieldProxyPort], fieldProblem(fieldProxyPort, "Enter the proxy's port, from 1 to 65535 (3128 is usual)."))
		}
	}
	// netconf's own findings, except for a field already said above.
	row := s.wiz.row()
	if _, err := row.Settings(); err != nil {
		said := map[string]bool{}
		for f := range byField {
			said[f] = true
		}
		for _, f := range settingsFindings(err, strings.TrimSpace(s.ip.Text) == "") {
			if !said[f.field] {
				byField[f.field] = append(byField[f.field], f.Finding)
			}
		}
	}
	// The proxy's client certificate: readable, its own key, valid now.
	if row.ProxyCert != "" && row.ProxyKey != "" {
		for _, f := range provision.CheckProxyClient(row.ProxyCert, row.ProxyKey, []byte(s.wiz.cert.passphrase.Text), s.env.Now()) {
			byField[fieldProxyCert] = append(byField[fieldProxyCert], f)
		}
	}
	// The uplink's files, as batch check checks them (TL-SITE-*). Site
	// init's files are the sensor's by name, known once the activation
	// file is (the review checks them then); files given here are checked
	// at once.
	if row.Uplink != "" && len(byField[fieldUplink]) == 0 && len(byField[fieldUpFiles]) == 0 &&
		(row.Sensor != "" || row.UplinkCert != "" && row.UplinkCredential != "") {
		for _, f := range provision.CheckUplink(row, provision.CheckOptions{Now: s.env.Now(), CertPassphrase: []byte(s.wiz.cert.passphrase.Text)}) {
			field := fieldUplink
			if row.UplinkCert != "" && (f.Code == site.CodeClientCert || f.Code == site.CodeClientEKU || f.Code == site.CodeChain) ||
				row.UplinkCredential != "" && f.Code == site.CodeCredential {
				field = fieldUpFiles
			}
			byField[field] = append(byField[field], f)
		}
	}
	for field, fs := range byField {
		s.notes.set(field, fs...)
	}
	return len(byField) == 0
}

// revalidate runs the checks again once Next was pressed, so a note goes
// as soon as its cause is fixed.
func (s *networkStep) revalidate() {
	if s.tried {
		s.validate()
	}
}

func (s *networkStep) ready() (bool, fyne.CanvasObject) {
	s.tried = true
	if s.validate() {
		return true, nil
	}
	return false, s.notes.first()
}

// fieldFinding is a finding and the field of the page it belongs under.
type fieldFinding struct {
	certs.Finding
	field string
}

// settingsFindings words each invalid setting netconf reported with the
// Network page's field label and fix. keptAddress says the address checked
// is the current one (IP address left empty).
func settingsFindings(err error, keptAddress bool) []fieldFinding {
	var out []fieldFinding
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *netconf.FieldError
		if !errors.As(e, &fe) {
			out = append(out, fieldFinding{problem(provision.CodeNetwork, "The network settings are not valid", "Check each field of the Network page."), fieldNetwork})
			return
		}
		path, _, _ := strings.Cut(fe.Field, "[") // network.dns[1] is DNS
		f, ok := networkFields[path]
		if !ok {
			out = append(out, fieldFinding{problem(provision.CodeNetwork, "Network setting "+fe.Field+": "+fe.Msg, "Check each field of the Network page."), fieldNetwork})
			return
		}
		msg := f.label + ": " + fe.Msg
		if path == "network.address" && keptAddress {
			msg = f.label + " (empty: the current address is kept): " + fe.Msg
		}
		out = append(out, fieldFinding{problem(provision.CodeNetwork, msg, f.fix), f.label})
	}
	walk(err)
	return out
}
