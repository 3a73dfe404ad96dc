package main

// The harness: one NATS connection that sees every response subject, calls
// routed by their reply-to subject, and a stream client written from
// docs/protocol.md section 9 with plain publish/subscribe.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"natsrpcconf/wire"
)

type harness struct {
	nc        *nats.Conn
	responder string
	app       string
	serverLog string
	clientID  string
	seq       uint64

	mu     sync.Mutex
	calls  map[string]chan *nats.Msg // by reply subject
	stray  []*nats.Msg               // response messages nobody waits for
	strayC chan struct{}
}

func newHarness(url, responder, serverLog string) (*harness, error) {
	h := &harness{responder: responder, app: "example_v1", serverLog: serverLog,
		clientID: wire.RandomToken(22), calls: map[string]chan *nats.Msg{},
		strayC: make(chan struct{}, 1)}
	nc, err := nats.Connect(url, nats.Name("natsrpc-conformance-go"),
		nats.MaxReconnects(0))
	if err != nil {
		return nil, err
	}
	h.nc = nc
	// Everything any requester gets: the checks use several requesters and
	// also watch reply-to subjects that a server must never publish to.
	if _, err := nc.Subscribe("responses.>", h.route); err != nil {
		return nil, err
	}
	if err := nc.Flush(); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *harness) route(m *nats.Msg) {
	h.mu.Lock()
	ch, ok := h.calls[m.Subject]
	if !ok {
		h.stray = append(h.stray, m)
		select {
		case h.strayC <- struct{}{}:
		default:
		}
	}
	h.mu.Unlock()
	if ok {
		select {
		case ch <- m:
		default:
			// A full channel is a test bug (a check stopped reading); keep
			// the evidence rather than block the delivery goroutine.
			h.mu.Lock()
			h.stray = append(h.stray, m)
			h.mu.Unlock()
		}
	}
}

// strays returns (and forgets) stray messages whose subject has the prefix.
func (h *harness) strays(prefix string) []*nats.Msg {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out, keep []*nats.Msg
	for _, m := range h.stray {
		if strings.HasPrefix(m.Subject, prefix) {
			out = append(out, m)
		} else {
			keep = append(keep, m)
		}
	}
	h.stray = keep
	return out
}

// call is one request or stream of one requester.
type call struct {
	h         *harness
	requester string
	service   string
	method    string
	seq       uint64
	reply     string
	ch        chan *nats.Msg

	// Stream state, once accepted.
	streamSubj  string
	heartbeat   time.Duration
	sendCredit  uint64 // the server's cumulative credit for our msgs
	sent        uint64 // our last msg seq
	granted     uint64 // our cumulative credit to the server
	consumed    uint64 // msgs we consumed
	pings       int    // pings received
	creditAhead int64  // max of (credit received - our msgs sent so far)
	lastPing    time.Time
	pingTimes   []time.Time
	keepAliveCh chan struct{}
	keepAliveWg sync.WaitGroup
}

func (h *harness) newCall(requester, service, method string) *call {
	seq := atomic.AddUint64(&h.seq, 1)
	c := &call{h: h, requester: requester, service: service, method: method,
		seq: seq, reply: wire.ReplySubject(requester, h.responder, h.app, h.clientID, seq),
		ch: make(chan *nats.Msg, 4096)}
	h.mu.Lock()
	h.calls[c.reply] = c.ch
	h.mu.Unlock()
	return c
}

func (c *call) openSubject() string {
	return wire.RequestSubject(c.requester, c.h.responder, c.h.app, c.service, c.method)
}

func (c *call) cancelSubject() string {
	return wire.CancelSubject(c.requester, c.h.responder, c.h.app, c.service, c.method, c.h.clientID, c.seq)
}

// hdr builds a header from name, value pairs.
func hdr(kv ...string) nats.Header {
	h := nats.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func (c *call) publish(subject, reply string, h nats.Header, payload []byte) error {
	m := &nats.Msg{Subject: subject, Reply: reply, Header: h, Data: payload}
	return c.h.nc.PublishMsg(m)
}

// openOpts are the open headers of 9.3.1 (an empty value leaves one out).
type openOpts struct {
	credit    string
	heartbeat string
	timeout   string
	extra     []string // more name, value pairs
}

func defaultOpen() openOpts {
	return openOpts{credit: "16", heartbeat: "5000000u", timeout: "30000000u"}
}

func (c *call) open(o openOpts, payload []byte) error {
	h := hdr(wire.HStream, wire.KOpen, wire.HCType, wire.ProtobufType)
	if o.credit != "" {
		h.Set(wire.HCredit, o.credit)
	}
	if o.heartbeat != "" {
		h.Set(wire.HHeartbeat, o.heartbeat)
	}
	if o.timeout != "" {
		h.Set(wire.HTimeout, o.timeout)
	}
	for i := 0; i+1 < len(o.extra); i += 2 {
		h.Add(o.extra[i], o.extra[i+1])
	}
	if n, ok := wire.ParseCounter(o.credit); ok {
		c.granted = n
	}
	return c.publish(c.openSubject(), c.reply, h, payload)
}

// recv waits up to d for the next message of the call.
func (c *call) recv(d time.Duration) (*nats.Msg, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case m := <-c.ch:
		return m, nil
	case <-t.C:
		return nil, fmt.Errorf("no message within %v", d)
	}
}

func kind(m *nats.Msg) string { return m.Header.Get(wire.HStream) }

func describe(m *nats.Msg) string {
	if m == nil {
		return "<nil>"
	}
	var parts []string
	for k, v := range m.Header {
		parts = append(parts, k+": "+strings.Join(v, ","))
	}
	status := ""
	if s := m.Header.Get("Status"); s != "" {
		status = " status " + s
	}
	return fmt.Sprintf("{%s%s [%s] %d bytes}", m.Subject, status, strings.Join(parts, "; "), len(m.Data))
}

// expectAccept reads the accept of 9.3.3 and checks its form.
func (c *call) expectAccept(d time.Duration) error {
	m, err := c.recv(d)
	if err != nil {
		return fmt.Errorf("waiting for accept: %v", err)
	}
	if kind(m) != wire.KAccept {
		return fmt.Errorf("first reply is not an accept: %s", describe(m))
	}
	prefix := c.openSubject() + "."
	toks := strings.Split(m.Reply, ".")
	if !strings.HasPrefix(m.Reply, prefix) || len(toks) != 8 || toks[6] == "cancel" ||
		!wire.IsToken(toks[6]) || !wire.IsToken(toks[7]) {
		return fmt.Errorf("accept names a bad stream subject %q (open %s)", m.Reply, c.openSubject())
	}
	cr, ok := wire.ParseCounter(m.Header.Get(wire.HCredit))
	if !ok {
		return fmt.Errorf("accept without a valid Natsrpc-Credit: %s", describe(m))
	}
	hb, err := wire.DecodeTimeout(m.Header.Get(wire.HHeartbeat))
	if err != nil || hb <= 0 {
		return fmt.Errorf("accept without a valid Natsrpc-Heartbeat: %s", describe(m))
	}
	c.streamSubj, c.sendCredit, c.heartbeat = m.Reply, cr, hb
	return nil
}

// send publishes one stream message on the stream subject.
func (c *call) send(h nats.Header, payload []byte) error {
	if c.streamSubj == "" {
		return errors.New("send before accept")
	}
	return c.publish(c.streamSubj, "", h, payload)
}

func (c *call) sendMsg(seq uint64, payload []byte) error {
	return c.send(hdr(wire.HStream, wire.KMsg, wire.HSeq, fmt.Sprint(seq)), payload)
}

func (c *call) sendEnd(count uint64) error {
	return c.send(hdr(wire.HStream, wire.KEnd, wire.HCount, fmt.Sprint(count),
		wire.HCredit, fmt.Sprint(c.granted)), nil)
}

func (c *call) sendCreditMsg(n uint64) error {
	if n > c.granted {
		c.granted = n
	}
	return c.send(hdr(wire.HStream, wire.KCredit, wire.HCredit, fmt.Sprint(c.granted)), nil)
}

func (c *call) sendPing() error {
	return c.send(hdr(wire.HStream, wire.KPing, wire.HCredit, fmt.Sprint(c.granted)), nil)
}

func (c *call) sendCancel() error {
	return c.send(hdr(wire.HStream, wire.KCancel, wire.HCredit, fmt.Sprint(c.granted)), nil)
}

// cancelBeforeAccept publishes the empty cancel of 9.8 on the cancel subject.
func (c *call) cancelBeforeAccept() error {
	return c.publish(c.cancelSubject(), "", hdr(wire.HStream, wire.KCancel), nil)
}

// keepAlive pings the server every interval until stopKeepAlive. The pings
// carry the credit granted when the keep-alive started (credit only grows
// through explicit credit messages in the checks).
func (c *call) keepAlive(every time.Duration) {
	c.keepAliveCh = make(chan struct{})
	credit := c.granted
	subj := c.streamSubj
	stop := c.keepAliveCh
	c.keepAliveWg.Add(1)
	go func() {
		defer c.keepAliveWg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				c.publish(subj, "", hdr(wire.HStream, wire.KPing, wire.HCredit, fmt.Sprint(credit)), nil)
			}
		}
	}()
}

func (c *call) stopKeepAlive() {
	if c.keepAliveCh != nil {
		close(c.keepAliveCh)
		c.keepAliveWg.Wait()
		c.keepAliveCh = nil
	}
}

// noteControl records the credit a ping/credit/end/cancel carries (9.5).
func (c *call) noteControl(m *nats.Msg) {
	if n, ok := wire.ParseCounter(m.Header.Get(wire.HCredit)); ok {
		if n > c.sendCredit {
			c.sendCredit = n
		}
		if ahead := int64(n) - int64(c.sent); ahead > c.creditAhead {
			c.creditAhead = ahead
		}
	}
	if kind(m) == wire.KPing {
		c.pings++
		c.lastPing = time.Now()
		c.pingTimes = append(c.pingTimes, c.lastPing)
	}
}

// next returns the next message that is not a ping or credit.
func (c *call) next(d time.Duration) (*nats.Msg, error) {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("no data, end or cancel within %v", d)
		}
		m, err := c.recv(left)
		if err != nil {
			return nil, fmt.Errorf("no data, end or cancel within %v", d)
		}
		switch kind(m) {
		case wire.KPing, wire.KCredit:
			c.noteControl(m)
			continue
		case wire.KEnd, wire.KCancel:
			c.noteControl(m)
		}
		return m, nil
	}
}

// errCode is the message's Nats-Service-Error-Code, 0 if absent.
func errCode(m *nats.Msg) int {
	v := m.Header.Get(wire.HErrCode)
	if v == "" {
		return 0
	}
	n, ok := wire.ParseCounter(v)
	if !ok {
		return -1
	}
	return int(n)
}

// expectStatusFrame checks that m is a `wantKind` ("end", "cancel" or "" for
// either) carrying status code want.
func expectStatusFrame(m *nats.Msg, wantKind string, want int) error {
	k := kind(m)
	if k != wire.KEnd && k != wire.KCancel || wantKind != "" && k != wantKind {
		w := wantKind
		if w == "" {
			w = "end or cancel"
		}
		return fmt.Errorf("want %s with %s, got %s", w, wire.CodeName(want), describe(m))
	}
	if got := errCode(m); got != want {
		return fmt.Errorf("want %s with %s, got %s (%s)", k, wire.CodeName(want),
			wire.CodeName(got), describe(m))
	}
	return nil
}

// quiet checks that the call gets nothing but (if allowPings) pings for d.
func (c *call) quiet(d time.Duration, allowPings bool) error {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		m, err := c.recv(left)
		if err != nil {
			return nil
		}
		if allowPings && (kind(m) == wire.KPing || kind(m) == wire.KCredit) {
			c.noteControl(m)
			continue
		}
		return fmt.Errorf("unexpected %s", describe(m))
	}
}

// waitLog waits up to d for a line of the server's log that starts with
// "<requester>: " and contains all of the given parts, and returns it.
func (h *harness) waitLog(d time.Duration, requester string, parts ...string) (string, error) {
	deadline := time.Now().Add(d)
	for {
		if line, ok := h.findLog(requester, parts...); ok {
			return line, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no server log line \"%s: ...%s\" within %v", requester, strings.Join(parts, "..."), d)
		}
		time.Sleep(20 * time.Millisecond) // polling a file, bounded by deadline
	}
}

func (h *harness) findLog(requester string, parts ...string) (string, bool) {
	if h.serverLog == "" {
		return "", false
	}
	f, err := os.Open(h.serverLog)
	if err != nil {
		return "", false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		all := strings.HasPrefix(line, requester+": ")
		for _, p := range parts {
			if !strings.Contains(line, p) {
				all = false
				break
			}
		}
		if all {
			return line, true
		}
	}
	return "", false
}

