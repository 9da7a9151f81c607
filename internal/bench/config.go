// Package bench is the WebSocket load generator behind cmd/wsbench: echo,
// fanout, idle and reload scenarios against any server that speaks plain
// WebSocket on 127.0.0.0/8, bounded in connections and time, measuring
// latency from timestamps carried in the payload and, given the server's
// pid, its CPU time per delivered message and RSS per connection.
package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultTSRegex finds the send time (Unix ns, 19 digits) in a message.
const DefaultTSRegex = `([0-9]{19})`

// Scenarios are the names -scenario accepts.
var Scenarios = []string{"echo", "fanout", "idle", "reload"}

// Config is one run. ParseArgs fills it from the command line.
type Config struct {
	Scenario    string
	URL         string   // may hold {room} and {conn}; the first of URLs
	URLs        []string // connection i goes to URLs[i%len(URLs)]; empty: URL
	Conns       int      // connections, never more
	Rooms       int      // rooms r0…rN-1, connections spread round-robin
	Senders     int      // connections that send; 0: every one
	Rate        float64  // messages per second per sender
	Duration    time.Duration
	Warmup      time.Duration
	Hello       []string // sent by each connection right after connecting
	Template    string   // payload: {ts} {seq} {conn} {room}
	TSRegex     string   // the send time: group 1 (or the whole match)
	ServerPIDs  []int    // none: no server CPU or RSS figures; several: summed
	BrokerPIDs  []int    // e.g. the NATS server: CPU and RSS reported apart
	Src         []netip.Addr
	JSON        bool
	ReloadFile  string
	ReloadEvery time.Duration
	ConnectRate float64 // connections opened per second; 0: as fast as possible
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// commaList is a repeatable flag whose every value may also be a
// comma-separated list: -url A -url B,C is A, B, C.
type commaList []string

func (s *commaList) String() string { return strings.Join(*s, ",") }
func (s *commaList) Set(v string) error {
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e == "" {
			return fmt.Errorf("empty element in %q", v)
		}
		*s = append(*s, e)
	}
	return nil
}

// pidList is a repeatable flag of pids, each value a pid or a
// comma-separated list of them.
type pidList []int

func (p *pidList) String() string {
	s := make([]string, len(*p))
	for i, v := range *p {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (p *pidList) Set(v string) error {
	var l commaList
	if err := l.Set(v); err != nil {
		return err
	}
	for _, e := range l {
		n, err := strconv.Atoi(e)
		if err != nil || n < 0 {
			return fmt.Errorf("%q: not a pid", e)
		}
		if n > 0 { // 0: none, as before pids were a list
			*p = append(*p, n)
		}
	}
	return nil
}

// ParseArgs reads the command line (without the program name). Usage and
// errors go to errOut.
func ParseArgs(args []string, errOut io.Writer) (Config, error) {
	var c Config
	var hello stringList
	var urls commaList
	var serverPIDs, brokerPIDs pidList
	var src string
	fs := flag.NewFlagSet("wsbench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&c.Scenario, "scenario", "", "echo, fanout, idle or reload")
	fs.Var(&urls, "url", "ws://127.x.x.x:PORT/PATH; {room} and {conn} are replaced per connection (repeatable or comma-separated: connections go to the URLs round-robin)")
	fs.IntVar(&c.Conns, "conns", 100, "connections")
	fs.IntVar(&c.Rooms, "rooms", 1, "rooms r0…rN-1 ({room}), connections spread round-robin")
	fs.IntVar(&c.Senders, "senders", 0, "connections that send (0: every connection)")
	fs.Float64Var(&c.Rate, "rate", 10, "messages per second per sender")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "measured time")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "time after connecting before measuring")
	fs.Var(&hello, "hello", "a message each connection sends after connecting (repeatable, in order; {room} {conn})")
	fs.StringVar(&c.Template, "template", "t={ts}", "payload; {ts} (send time, Unix ns), {seq}, {conn}, {room}")
	fs.StringVar(&c.TSRegex, "ts-regex", DefaultTSRegex, "finds the send time in a received message (group 1)")
	fs.Var(&serverPIDs, "server-pid", "the server's pid: its CPU per delivery and RSS per connection (repeatable or comma-separated: summed over the servers)")
	fs.Var(&brokerPIDs, "broker-pid", "a broker's pid (the NATS server): its CPU per delivery and RSS, reported apart from the servers' (repeatable or comma-separated)")
	fs.StringVar(&src, "src", "", "source addresses, comma-separated, in 127.0.0.0/8 (connections spread over them)")
	fs.BoolVar(&c.JSON, "json", false, "print one JSON object instead of the table")
	fs.StringVar(&c.ReloadFile, "reload-file", "", "reload: the plugin file to rewrite")
	fs.DurationVar(&c.ReloadEvery, "reload-every", time.Second, "reload: rewrite the file this often")
	fs.Float64Var(&c.ConnectRate, "connect-rate", 0, "connections opened per second (0: as fast as possible)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	c.Hello = hello
	c.URLs = urls
	if len(urls) > 0 {
		c.URL = urls[0]
	}
	c.ServerPIDs, c.BrokerPIDs = serverPIDs, brokerPIDs
	if src != "" {
		for _, s := range strings.Split(src, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				return c, fmt.Errorf("-src %q: %v", s, err)
			}
			c.Src = append(c.Src, a)
		}
	}
	return c, c.Validate()
}

var loopback = netip.MustParsePrefix("127.0.0.0/8")

// loopbackAddr reports whether a is an IPv4 address in 127.0.0.0/8.
func loopbackAddr(a netip.Addr) bool { return loopback.Contains(a.Unmap()) }

// CheckURL refuses a URL that is not ws:// or wss:// to an IPv4 literal in
// 127.0.0.0/8. Placeholders are checked expanded.
func CheckURL(raw string) error {
	u, err := url.Parse(Expand(raw, Vars{Room: "r0", Conn: 0}))
	if err != nil {
		return fmt.Errorf("-url: %v", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("-url %q: the scheme must be ws or wss", raw)
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil || !loopbackAddr(a) {
		return fmt.Errorf("-url %q: the host must be an address in 127.0.0.0/8 (this tool loads local servers only)", raw)
	}
	return nil
}

// Validate checks every field and the combinations.
func (c *Config) Validate() error {
	ok := false
	for _, s := range Scenarios {
		ok = ok || c.Scenario == s
	}
	var errs []error
	if !ok {
		errs = append(errs, fmt.Errorf("-scenario %q: want one of %s", c.Scenario, strings.Join(Scenarios, ", ")))
	}
	if len(c.urls()) == 0 {
		errs = append(errs, errors.New("-url is required"))
	}
	for _, u := range c.urls() {
		if err := CheckURL(u); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Conns < 1 || c.Conns > 1_000_000 {
		errs = append(errs, fmt.Errorf("-conns %d: want 1 to 1000000", c.Conns))
	}
	if c.Rooms < 1 || c.Rooms > c.Conns {
		errs = append(errs, fmt.Errorf("-rooms %d: want 1 to -conns", c.Rooms))
	}
	if c.Senders < 0 || c.Senders > c.Conns {
		errs = append(errs, fmt.Errorf("-senders %d: want 0 (every connection) to -conns", c.Senders))
	}
	if c.Rate <= 0 || c.Rate > 100_000 {
		errs = append(errs, fmt.Errorf("-rate %g: want more than 0, at most 100000", c.Rate))
	}
	if c.Duration <= 0 || c.Duration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("-duration %v: want more than 0, at most 24h", c.Duration))
	}
	if c.Warmup < 0 || c.Warmup > time.Hour {
		errs = append(errs, fmt.Errorf("-warmup %v: want 0 to 1h", c.Warmup))
	}
	if c.ConnectRate < 0 {
		errs = append(errs, fmt.Errorf("-connect-rate %g: want 0 or more", c.ConnectRate))
	}
	for _, p := range c.ServerPIDs {
		if p <= 0 {
			errs = append(errs, fmt.Errorf("-server-pid %d: want a pid", p))
		}
	}
	for _, p := range c.BrokerPIDs {
		if p <= 0 {
			errs = append(errs, fmt.Errorf("-broker-pid %d: want a pid", p))
		}
	}
	if _, err := regexp.Compile(c.TSRegex); err != nil {
		errs = append(errs, fmt.Errorf("-ts-regex: %v", err))
	}
	for _, a := range c.Src {
		if !loopbackAddr(a) {
			errs = append(errs, fmt.Errorf("-src %s: want an address in 127.0.0.0/8", a))
		}
	}
	if c.Scenario == "reload" {
		if c.ReloadFile == "" {
			errs = append(errs, errors.New("-scenario reload needs -reload-file"))
		}
		if c.ReloadEvery < 10*time.Millisecond {
			errs = append(errs, fmt.Errorf("-reload-every %v: want 10ms or more", c.ReloadEvery))
		}
	}
	return errors.Join(errs...)
}

// urls is the URLs connections go to, round-robin: URLs, or URL alone.
func (c *Config) urls() []string {
	if len(c.URLs) > 0 {
		return c.URLs
	}
	if c.URL != "" {
		return []string{c.URL}
	}
	return nil
}

// urlOf is the URL (unexpanded) of connection i: the URLs round-robin.
func (c *Config) urlOf(i int) string {
	u := c.urls()
	return u[i%len(u)]
}

// senders is the number of sending connections.
func (c *Config) senders() int {
	switch {
	case c.Scenario == "idle":
		return 0
	case c.Senders == 0:
		return c.Conns
	}
	return c.Senders
}
