// Command goserver serves example.v1.FileStore (Download, Upload) and
// example.v1.ChatRoom (Chat) of proto/example/v1/streaming.proto over NATS,
// written from docs/protocol.md sections 2, 5 and 9 with plain nats.go, so
// that the C++ streaming_client example can call it. It behaves like
// examples/streaming/server.cc and prints the same log lines.
//
//	goserver --url nats://127.0.0.1:4222 --responder bob
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/nats-io/nats.go"

	pb "natsrpcconf/examplepb"
	"natsrpcconf/wire"
)

const (
	earlyCancelTTL  = 30 * time.Second
	maxEarlyCancels = 10000

	app          = "example_v1" // package example.v1 (section 1)
	window       = 16           // our receive window (9.5)
	minHeartbeat = time.Second  // we raise lower proposals to this (9.3.3)
	defaultHB    = 5 * time.Second
)

type status struct {
	code int
	msg  string
}

func (s status) ok() bool { return s.code == 0 }

func (s status) String() string {
	if s.ok() {
		return "OK"
	}
	return wire.CodeName(s.code) + ": " + s.msg
}

var out sync.Mutex

func logf(format string, args ...interface{}) {
	out.Lock()
	defer out.Unlock()
	fmt.Printf(format+"\n", args...)
	os.Stdout.Sync()
}

type methodKind int

const (
	serverStream methodKind = iota
	clientStream
	bidiStream
)

var methods = map[string]map[string]methodKind{
	"FileStore": {"Download": serverStream, "Upload": clientStream},
	"ChatRoom":  {"Chat": bidiStream},
}

type server struct {
	nc        *nats.Conn
	responder string
	instance  string

	mu      sync.Mutex
	streams map[string]*endpoint // by stream id
	byReply map[string]*endpoint // by the open's reply-to
	nextID  uint64
	// Cancels that came before their open: the cancel subject and the
	// queue subscription are two subscriptions, which nats.go delivers on
	// two goroutines, so a client's open-then-cancel can be seen in the
	// other order. Remembered for earlyCancelTTL, at most maxEarlyCancels.
	early map[string]time.Time

	filesMu sync.Mutex
	files   map[string][]byte

	handlers sync.WaitGroup // running stream handlers
}

// shutdown ends every open stream (the client sees UNAVAILABLE) and waits a
// bounded time for the handlers to return and log, as the C++ server's
// Shutdown does.
func (s *server) shutdown() {
	s.mu.Lock()
	all := make([]*endpoint, 0, len(s.streams))
	for _, e := range s.streams {
		all = append(all, e)
	}
	s.mu.Unlock()
	for _, e := range all {
		e.fail(status{wire.Unavailable, "the server is shutting down"}, true)
	}
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
}

func main() {
	url := flag.String("url", "nats://127.0.0.1:4222", "NATS server URL")
	responder := flag.String("responder", "bob", "who this server answers for")
	flag.Parse()
	if !wire.IsToken(*responder) {
		fmt.Printf("goserver: responder %q is not a token\n", *responder)
		os.Exit(1)
	}
	nc, err := nats.Connect(*url, nats.Name("natsrpc-conformance-goserver"))
	if err != nil {
		fmt.Printf("goserver: cannot connect to %s: %v\n", *url, err)
		os.Exit(1)
	}
	s := &server{nc: nc, responder: *responder, instance: wire.RandomToken(22),
		streams: map[string]*endpoint{}, byReply: map[string]*endpoint{}, early: map[string]time.Time{},
		files: map[string][]byte{"sample.bin": wire.SampleFile(1 << 20)}}
	queue := fmt.Sprintf("natsrpc.%s.%s", s.responder, app)
	for service := range methods {
		if _, err := nc.QueueSubscribe(fmt.Sprintf("requests.*.%s.%s.%s.*", s.responder, app, service), queue, s.onRequest); err != nil {
			fmt.Printf("goserver: %v\n", err)
			os.Exit(1)
		}
		if _, err := nc.Subscribe(fmt.Sprintf("requests.*.%s.%s.%s.*.cancel.*.*", s.responder, app, service), s.onCancel); err != nil {
			fmt.Printf("goserver: %v\n", err)
			os.Exit(1)
		}
	}
	if _, err := nc.Subscribe(fmt.Sprintf("requests.*.%s.%s.*.*.%s.*", s.responder, app, s.instance), s.onStream); err != nil {
		fmt.Printf("goserver: %v\n", err)
		os.Exit(1)
	}
	if err := nc.Flush(); err != nil {
		fmt.Printf("goserver: %v\n", err)
		os.Exit(1)
	}
	go s.tick()
	logf("goserver: %s serving FileStore and ChatRoom on %s", s.responder, *url)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	n := <-sig
	s.shutdown()
	nc.Drain()
	logf("goserver: stopped by signal %d", n)
}

// ---- opens (sections 5 and 9.3) ----

func (s *server) onRequest(m *nats.Msg) {
	t := strings.Split(m.Subject, ".")
	if len(t) != 6 {
		return
	}
	requester, service, method := t[1], t[4], t[5]
	// 5.1: the reply-to must be responses.<R>.<P>.<A>.<client id>.<seq>.
	r := strings.Split(m.Reply, ".")
	if len(r) != 6 || r[0] != "responses" || r[1] != requester || r[2] != s.responder || r[3] != app ||
		!wire.IsToken(r[4]) || !wire.IsToken(r[5]) {
		return
	}
	// 9.3.2: only opens belong on a method subject; any other kind (an empty
	// value included) gets one `end` with INVALID_ARGUMENT.
	kinds, present := m.Header[wire.HStream]
	k := ""
	if len(kinds) > 0 {
		k = kinds[0]
	}
	isOpen := present && k == wire.KOpen
	if present && !isOpen {
		s.publish(m.Reply, "", nil, wire.HStream, wire.KEnd, wire.HCount, "0",
			wire.HErrCode, fmt.Sprint(wire.InvalidArgument),
			wire.HErr, fmt.Sprintf("Natsrpc-Stream %q on the method subject %s: only \"open\" belongs there", k, m.Subject))
		return
	}
	refuse := func(st status) {
		if isOpen {
			s.publish(m.Reply, "", nil, wire.HStream, wire.KEnd, wire.HCount, "0",
				wire.HErrCode, fmt.Sprint(st.code), wire.HErr, st.msg)
		} else {
			s.publish(m.Reply, "", nil, wire.HErrCode, fmt.Sprint(st.code), wire.HErr, st.msg)
		}
	}
	deadline := time.Time{}
	if v := m.Header.Get(wire.HTimeout); v != "" {
		d, err := wire.DecodeTimeout(v)
		if err != nil {
			refuse(status{wire.InvalidArgument, fmt.Sprintf("malformed Natsrpc-Timeout %q", v)})
			return
		}
		if d <= 0 {
			refuse(status{wire.DeadlineExceeded, "the request arrived after its deadline"})
			return
		}
		deadline = time.Now().Add(d)
	}
	kind, found := methods[service][method]
	if !found {
		refuse(status{wire.Unimplemented, fmt.Sprintf("service %s.%s has no method %q", app, service, method)})
		return
	}
	if !isOpen {
		refuse(status{wire.Unimplemented, fmt.Sprintf("method %s.%s is a streaming method; a unary request cannot call it", service, method)})
		return
	}
	credit, ok := wire.ParseCounter(m.Header.Get(wire.HCredit))
	if !ok {
		refuse(status{wire.InvalidArgument, "stream open without a valid Natsrpc-Credit"})
		return
	}
	hb := defaultHB
	if v := m.Header.Get(wire.HHeartbeat); v != "" {
		if d, err := wire.DecodeTimeout(v); err == nil && d > 0 {
			hb = d
		}
	}
	if hb < minHeartbeat {
		hb = minHeartbeat
	}
	e := &endpoint{s: s, peer: m.Reply, requester: requester, service: service, method: method,
		receives: kind != serverStream, sendCredit: credit, hb: hb, deadline: deadline,
		buf: map[uint64]*nats.Msg{}, lastHeard: time.Now(), lastSent: time.Now()}
	e.cond = sync.NewCond(&e.mu)
	accepted := uint64(0)
	if e.receives {
		e.granted = window
		accepted = window
	}
	s.mu.Lock()
	if t, cancelled := s.early[e.peer]; cancelled {
		delete(s.early, e.peer)
		if time.Since(t) <= earlyCancelTTL {
			// Its cancel came first: the client has already given up.
			s.mu.Unlock()
			return
		}
	}
	s.nextID++
	e.id = fmt.Sprint(s.nextID)
	s.streams[e.id] = e
	s.byReply[e.peer] = e
	s.mu.Unlock()
	streamSubject := strings.Join([]string{"requests", requester, s.responder, app, service, method, s.instance, e.id}, ".")
	s.publish(m.Reply, streamSubject, nil, wire.HStream, wire.KAccept,
		wire.HCredit, fmt.Sprint(accepted), wire.HHeartbeat, wire.EncodeTimeout(hb))
	s.handlers.Add(1)
	go func() {
		defer s.handlers.Done()
		s.run(e, m)
	}()
}

func (s *server) forget(e *endpoint) {
	s.mu.Lock()
	if s.streams[e.id] == e {
		delete(s.streams, e.id)
	}
	if s.byReply[e.peer] == e {
		delete(s.byReply, e.peer)
	}
	s.mu.Unlock()
}

func (s *server) publish(subject, reply string, payload []byte, kv ...string) {
	h := nats.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	s.nc.PublishMsg(&nats.Msg{Subject: subject, Reply: reply, Header: h, Data: payload})
}

// ---- the stream and cancel subjects (9.2, 9.8) ----

func (s *server) onStream(m *nats.Msg) {
	t := strings.Split(m.Subject, ".")
	if len(t) != 8 {
		return
	}
	s.mu.Lock()
	e := s.streams[t[7]]
	s.mu.Unlock()
	if e == nil || t[1] != e.requester || t[2] != s.responder || t[3] != app || t[4] != e.service || t[5] != e.method {
		return // not one of our streams, or not its opener's subject
	}
	e.onMessage(m)
}

func (s *server) onCancel(m *nats.Msg) {
	t := strings.Split(m.Subject, ".")
	if len(t) != 9 {
		return
	}
	reply := strings.Join([]string{"responses", t[1], t[2], t[3], t[7], t[8]}, ".")
	s.mu.Lock()
	e := s.byReply[reply]
	if e == nil {
		// Not (yet) ours: remember it in case its open is still on its way.
		now := time.Now()
		if len(s.early) >= maxEarlyCancels {
			for r, t := range s.early {
				if now.Sub(t) > earlyCancelTTL || len(s.early) >= maxEarlyCancels {
					delete(s.early, r)
				}
			}
		}
		s.early[reply] = now
	}
	s.mu.Unlock()
	if e == nil || e.service != t[4] || e.method != t[5] {
		return // not ours (another instance has it) or already over
	}
	e.fail(status{wire.Cancelled, "cancelled by the client"}, false)
}

// tick sends pings and enforces liveness and deadlines (9.6, 9.7).
func (s *server) tick() {
	for range time.Tick(100 * time.Millisecond) {
		s.mu.Lock()
		all := make([]*endpoint, 0, len(s.streams))
		for _, e := range s.streams {
			all = append(all, e)
		}
		s.mu.Unlock()
		for _, e := range all {
			e.tick()
		}
	}
}

// ---- one stream, the server's side ----

type endpoint struct {
	s         *server
	id        string
	peer      string // the client's reply-to
	requester string
	service   string
	method    string
	receives  bool
	hb        time.Duration
	deadline  time.Time

	writeMu sync.Mutex // keeps msgs in seq order on the wire

	mu         sync.Mutex
	cond       *sync.Cond
	sendCredit uint64
	sent       uint64
	granted    uint64
	consumed   uint64
	buf        map[uint64]*nats.Msg
	endCount   *uint64
	failed     *status
	done       bool // our end was sent
	lastHeard  time.Time
	lastSent   time.Time
}

func (e *endpoint) onMessage(m *nats.Msg) {
	e.mu.Lock()
	if e.failed != nil || e.done {
		e.mu.Unlock()
		return
	}
	e.lastHeard = time.Now()
	k := m.Header.Get(wire.HStream)
	if k != wire.KMsg {
		if c, ok := wire.ParseCounter(m.Header.Get(wire.HCredit)); ok && c > e.sendCredit {
			e.sendCredit = c
		}
	}
	var violation *status
	var peerCancel *status
	switch k {
	case wire.KMsg:
		seq, ok := wire.ParseCounter(m.Header.Get(wire.HSeq))
		_, held := e.buf[seq]
		switch {
		case !e.receives:
			violation = &status{wire.Internal, "data on a server stream"}
		case !ok || seq == 0:
			violation = &status{wire.Internal, "stream message without a valid Natsrpc-Seq"}
		case seq <= e.consumed || held:
			// duplicate: dropped
		case e.endCount != nil:
			violation = &status{wire.DataLoss, fmt.Sprintf("msg %d after the end", seq)}
		case seq > e.granted:
			violation = &status{wire.ResourceExhausted, fmt.Sprintf("msg %d beyond the credit %d", seq, e.granted)}
		default:
			e.buf[seq] = m
		}
	case wire.KEnd:
		count, ok := wire.ParseCounter(m.Header.Get(wire.HCount))
		switch {
		case !e.receives || e.endCount != nil:
			// a half close of a direction that carries no data, or a repeat
		case !ok:
			violation = &status{wire.Internal, "stream end without a valid Natsrpc-Count"}
		default:
			maxSeq := e.consumed
			for seq := range e.buf {
				if seq > maxSeq {
					maxSeq = seq
				}
			}
			if count < e.consumed || uint64(len(e.buf)) != count-e.consumed || maxSeq > count {
				violation = &status{wire.DataLoss, fmt.Sprintf("end with count %d but %d msgs arrived", count, e.consumed+uint64(len(e.buf)))}
			} else {
				e.endCount = &count
			}
		}
	case wire.KCancel:
		st := status{wire.Cancelled, "cancelled by the client"}
		if c, ok := wire.ParseCounter(m.Header.Get(wire.HErrCode)); ok && c > 0 {
			st = status{int(c), m.Header.Get(wire.HErr)}
		}
		peerCancel = &st
	case wire.KCredit, wire.KPing, wire.KOpen, wire.KAccept:
	default:
		violation = &status{wire.Internal, fmt.Sprintf("stream message of unknown kind %q", k)}
	}
	e.cond.Broadcast()
	e.mu.Unlock()
	if violation != nil {
		e.fail(*violation, true)
	} else if peerCancel != nil {
		e.fail(*peerCancel, false)
	}
}

// fail ends the stream with st; notify tells the client with a cancel.
func (e *endpoint) fail(st status, notify bool) {
	e.mu.Lock()
	if e.failed != nil || e.done {
		e.mu.Unlock()
		return
	}
	e.failed = &st
	granted := e.granted
	e.cond.Broadcast()
	e.mu.Unlock()
	if notify {
		e.s.publish(e.peer, "", nil, wire.HStream, wire.KCancel, wire.HCredit, fmt.Sprint(granted),
			wire.HErrCode, fmt.Sprint(st.code), wire.HErr, st.msg)
	}
	e.s.forget(e)
}

func (e *endpoint) tick() {
	e.mu.Lock()
	if e.failed != nil || e.done {
		e.mu.Unlock()
		return
	}
	now := time.Now()
	var st *status
	ping := false
	switch {
	case !e.deadline.IsZero() && now.After(e.deadline):
		st = &status{wire.DeadlineExceeded, "the stream's deadline passed"}
	case now.Sub(e.lastHeard) >= 3*e.hb:
		st = &status{wire.Cancelled, fmt.Sprintf("no message from the client for %v", now.Sub(e.lastHeard).Round(time.Millisecond))}
	case now.Sub(e.lastSent) >= e.hb:
		ping = true
		e.lastSent = now
	}
	granted := e.granted
	e.mu.Unlock()
	if st != nil {
		e.fail(*st, true)
	} else if ping {
		e.s.publish(e.peer, "", nil, wire.HStream, wire.KPing, wire.HCredit, fmt.Sprint(granted))
	}
}

// read returns the next message in seq order; false at the client's end or
// when the stream failed.
func (e *endpoint) read() ([]byte, bool) {
	e.mu.Lock()
	for {
		if e.failed != nil {
			e.mu.Unlock()
			return nil, false
		}
		if m, ok := e.buf[e.consumed+1]; ok {
			delete(e.buf, e.consumed+1)
			e.consumed++
			var grant uint64
			if e.granted-e.consumed <= window/2 {
				e.granted = e.consumed + window
				grant = e.granted
				e.lastSent = time.Now()
			}
			e.mu.Unlock()
			if grant > 0 {
				e.s.publish(e.peer, "", nil, wire.HStream, wire.KCredit, wire.HCredit, fmt.Sprint(grant))
			}
			return m.Data, true
		}
		if e.endCount != nil && e.consumed == *e.endCount {
			e.mu.Unlock()
			return nil, false
		}
		e.cond.Wait()
	}
}

// write sends one msg, waiting for credit; false once the stream failed.
func (e *endpoint) write(payload []byte) bool {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	e.mu.Lock()
	for e.failed == nil && e.sent+1 > e.sendCredit {
		e.cond.Wait()
	}
	if e.failed != nil {
		e.mu.Unlock()
		return false
	}
	e.sent++
	seq := e.sent
	e.lastSent = time.Now()
	e.mu.Unlock()
	e.s.publish(e.peer, "", payload, wire.HStream, wire.KMsg, wire.HSeq, fmt.Sprint(seq))
	return true
}

func (e *endpoint) cancelled() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed != nil
}

// finish sends our end with the status: the stream is over (9.4).
func (e *endpoint) finish(st status) {
	e.mu.Lock()
	if e.failed != nil || e.done {
		e.mu.Unlock()
		return
	}
	e.done = true
	count, granted := e.sent, e.granted
	e.cond.Broadcast()
	e.mu.Unlock()
	kv := []string{wire.HStream, wire.KEnd, wire.HCount, fmt.Sprint(count), wire.HCredit, fmt.Sprint(granted)}
	if !st.ok() {
		kv = append(kv, wire.HErrCode, fmt.Sprint(st.code), wire.HErr, strings.NewReplacer("\r", " ", "\n", " ").Replace(st.msg))
	}
	e.s.publish(e.peer, "", nil, kv...)
	e.s.forget(e)
}

// ---- the handlers, as in examples/streaming/server.cc ----

func (s *server) run(e *endpoint, open *nats.Msg) {
	var st status
	var call, result string
	switch e.method {
	case "Download":
		call, st, result = s.download(e, open)
	case "Upload":
		call, st, result = s.upload(e, open)
	case "Chat":
		call, st, result = s.chat(e)
	}
	if st.ok() {
		logf("%s: %s %s", e.requester, call, result)
	} else {
		logf("%s: %s -> %s", e.requester, call, st)
	}
	e.finish(st)
}

func (s *server) download(e *endpoint, open *nats.Msg) (string, status, string) {
	var req pb.DownloadRequest
	if err := proto.Unmarshal(open.Data, &req); err != nil {
		return "Download()", status{wire.InvalidArgument, "request does not decode"}, ""
	}
	call := fmt.Sprintf("Download(%s)", req.Name)
	s.filesMu.Lock()
	file, ok := s.files[req.Name]
	s.filesMu.Unlock()
	if !ok {
		return call, status{wire.NotFound, fmt.Sprintf("no file named %q", req.Name)}, ""
	}
	size := 16384
	if req.ChunkSize > 0 {
		size = int(req.ChunkSize)
	}
	chunks := 0
	for off := 0; off < len(file); off += size {
		end := off + size
		if end > len(file) {
			end = len(file)
		}
		b, _ := proto.Marshal(&pb.Chunk{Offset: int64(off), Data: file[off:end]})
		if !e.write(b) {
			return call, status{wire.Cancelled, "the client went away"}, ""
		}
		chunks++
	}
	return call, status{}, fmt.Sprintf("sent %d bytes in %d chunks", len(file), chunks)
}

func (s *server) upload(e *endpoint, open *nats.Msg) (string, status, string) {
	name := open.Header.Get("x-file-name")
	call := fmt.Sprintf("Upload(%s)", name)
	if name == "" {
		return call, status{wire.InvalidArgument, "no x-file-name metadata"}, ""
	}
	var data []byte
	chunks := 0
	for {
		b, ok := e.read()
		if !ok {
			break
		}
		var c pb.Chunk
		if err := proto.Unmarshal(b, &c); err != nil {
			return call, status{wire.InvalidArgument, "chunk does not decode"}, ""
		}
		if c.Offset != int64(len(data)) {
			return call, status{wire.InvalidArgument, fmt.Sprintf("chunk at offset %d, expected %d", c.Offset, len(data))}, ""
		}
		data = append(data, c.Data...)
		chunks++
	}
	if e.cancelled() {
		return call, status{wire.Cancelled, "upload abandoned"}, ""
	}
	f := wire.NewFnv()
	f.Add(data)
	b, _ := proto.Marshal(&pb.UploadReply{Size: int64(len(data)), Checksum: f.Hex()})
	if !e.write(b) {
		return call, status{wire.Cancelled, "upload abandoned"}, ""
	}
	s.filesMu.Lock()
	s.files[name] = data
	s.filesMu.Unlock()
	return call, status{}, fmt.Sprintf("stored %d bytes in %d chunks", len(data), chunks)
}

func (s *server) chat(e *endpoint) (string, status, string) {
	count := 0
	for {
		b, ok := e.read()
		if !ok {
			break
		}
		var in pb.ChatMessage
		if err := proto.Unmarshal(b, &in); err != nil {
			return "Chat", status{wire.InvalidArgument, "message does not decode"}, ""
		}
		count++
		words := len(strings.Fields(in.Text))
		unit := "words"
		if words == 1 {
			unit = "word"
		}
		reply, _ := proto.Marshal(&pb.ChatMessage{From: "bot", Text: fmt.Sprintf("heard %s say %d %s", in.From, words, unit)})
		if !e.write(reply) {
			break
		}
	}
	if e.cancelled() {
		return "Chat", status{wire.Cancelled, "the client went away"}, ""
	}
	return "Chat", status{}, fmt.Sprintf("ended after %d messages", count)
}
