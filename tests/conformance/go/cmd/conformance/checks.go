package main

// The checks. Each uses its own requester token, so that the server's log
// lines ("<requester>: <call> ...", examples/streaming/server.cc) tell which
// handler ended how.

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/nats-io/nats.go"

	pb "natsrpcconf/examplepb"
	"natsrpcconf/wire"
)

func chunkBytes(off, n int) []byte {
	return mustMarshal(&pb.Chunk{Offset: int64(off), Data: sample[off : off+n]})
}

func uploadOpen(name string) openOpts {
	o := defaultOpen()
	o.extra = []string{"x-file-name", name}
	return o
}

// ---- ordering and counts (9.4) ----

func checkDownloadOrder(h *harness) error {
	c, err := h.openAccepted("dl", fileStore, "Download", defaultOpen(), downloadReq("sample.bin", 0))
	if err != nil {
		return err
	}
	if c.sendCredit != 0 {
		return fmt.Errorf("accept of a server stream has Natsrpc-Credit %d, want 0 (9.3.3)", c.sendCredit)
	}
	r, err := c.readDownload(16, 0, 10*time.Second)
	if err != nil {
		return err
	}
	if !equalBytes(r.data, sample) {
		return fmt.Errorf("downloaded %d bytes that differ from sample.bin (%d bytes)", len(r.data), len(sample))
	}
	if r.maxAhead > 0 {
		return fmt.Errorf("server sent seq %d beyond the credit granted", r.maxAhead)
	}
	if r.msgs != sampleLen/16384 {
		return fmt.Errorf("%d chunks, want %d (chunk_size 0 means 16384)", r.msgs, sampleLen/16384)
	}
	return nil
}

func checkDownloadNotFound(h *harness) error {
	c, err := h.openAccepted("nf", fileStore, "Download", defaultOpen(), downloadReq("missing.txt", 0))
	if err != nil {
		return err
	}
	m, err := c.next(5 * time.Second)
	if err != nil {
		return err
	}
	if err := expectStatusFrame(m, wire.KEnd, wire.NotFound); err != nil {
		return err
	}
	if m.Header.Get(wire.HCount) != "0" {
		return fmt.Errorf("error end has Natsrpc-Count %q, want 0", m.Header.Get(wire.HCount))
	}
	if !strings.Contains(m.Header.Get(wire.HErr), "missing.txt") {
		return fmt.Errorf("status message %q does not name the file", m.Header.Get(wire.HErr))
	}
	return c.quiet(300*time.Millisecond, false)
}

func checkUpload(h *harness) error {
	c, err := h.openAccepted("ul", fileStore, "Upload", uploadOpen("conf-ul.bin"), nil)
	if err != nil {
		return err
	}
	if c.sendCredit < 1 {
		return fmt.Errorf("accept of a client stream grants credit %d", c.sendCredit)
	}
	window := c.sendCredit
	data := sample[:300000]
	n, err := c.uploadChunks(data, 7000) // 43 msgs: more than one window
	if err != nil {
		return err
	}
	if uint64(n) <= window {
		return fmt.Errorf("test sent only %d msgs with window %d: credit never exercised", n, window)
	}
	// 9.5: the server never grants more than its window beyond what it got.
	if c.creditAhead > int64(window) {
		return fmt.Errorf("server granted credit %d msgs beyond those sent, more than its window %d", c.creditAhead, window)
	}
	if err := c.expectUploadReply(data); err != nil {
		return err
	}
	// The stored file comes back whole.
	d, err := h.openAccepted("ul", fileStore, "Download", defaultOpen(), downloadReq("conf-ul.bin", 50000))
	if err != nil {
		return err
	}
	r, err := d.readDownload(16, 0, 10*time.Second)
	if err != nil {
		return fmt.Errorf("download of the upload: %v", err)
	}
	if !equalBytes(r.data, data) || r.msgs != 6 {
		return fmt.Errorf("download of the upload: %d bytes in %d chunks, want %d in 6", len(r.data), r.msgs, len(data))
	}
	return nil
}

func checkUploadReorder(h *harness) error {
	c, err := h.openAccepted("ro", fileStore, "Upload", uploadOpen("conf-ro.bin"), nil)
	if err != nil {
		return err
	}
	if c.sendCredit < 3 {
		return fmt.Errorf("accept grants %d, the check needs 3", c.sendCredit)
	}
	c.sendMsg(2, chunkBytes(10, 10))
	c.sendMsg(1, chunkBytes(0, 10))
	c.sendMsg(3, chunkBytes(20, 10))
	if err := c.sendEnd(3); err != nil {
		return err
	}
	return c.expectUploadReply(sample[:30])
}

func checkUploadDuplicate(h *harness) error {
	c, err := h.openAccepted("dup", fileStore, "Upload", uploadOpen("conf-dup.bin"), nil)
	if err != nil {
		return err
	}
	c.sendMsg(1, chunkBytes(0, 10))
	c.sendMsg(1, chunkBytes(0, 10))
	c.sendMsg(2, chunkBytes(10, 10))
	if err := c.sendEnd(2); err != nil {
		return err
	}
	return c.expectUploadReply(sample[:20])
}

func checkChat(h *harness) error {
	c, err := h.openAccepted("chat", chatRoom, "Chat", defaultOpen(), nil)
	if err != nil {
		return err
	}
	texts := []string{"a", "b c", "d e f", "", "g h i j", "x"}
	if err := c.waitSendCredit(uint64(len(texts)), 5*time.Second); err != nil {
		return err
	}
	for i, t := range texts {
		if err := c.sendMsg(uint64(i+1), chatMsg("chat", t)); err != nil {
			return err
		}
	}
	for i, t := range texts {
		m, err := c.next(5 * time.Second)
		if err != nil {
			return fmt.Errorf("answer %d: %v", i+1, err)
		}
		if kind(m) != wire.KMsg || m.Header.Get(wire.HSeq) != fmt.Sprint(i+1) {
			return fmt.Errorf("want msg seq %d, got %s", i+1, describe(m))
		}
		var in pb.ChatMessage
		if err := proto.Unmarshal(m.Data, &in); err != nil {
			return fmt.Errorf("answer %d does not decode: %v", i+1, err)
		}
		words := len(strings.Fields(t))
		want := fmt.Sprintf("heard chat say %d words", words)
		if words == 1 {
			want = "heard chat say 1 word"
		}
		if in.From != "bot" || in.Text != want {
			return fmt.Errorf("answer %d is %q from %q, want %q from bot (order)", i+1, in.Text, in.From, want)
		}
		c.consumed++
	}
	if err := c.sendEnd(uint64(len(texts))); err != nil {
		return err
	}
	m, err := c.next(5 * time.Second)
	if err != nil {
		return err
	}
	if kind(m) != wire.KEnd || m.Header.Get(wire.HCount) != fmt.Sprint(len(texts)) || errCode(m) != 0 {
		return fmt.Errorf("want end count %d OK, got %s", len(texts), describe(m))
	}
	return c.quiet(300*time.Millisecond, false)
}

// ---- flow control (9.5) ----

func checkCreditSlowReader(h *harness) error {
	const window = 4
	o := defaultOpen()
	o.credit, o.heartbeat = fmt.Sprint(window), "1000000u"
	c, err := h.openAccepted("slow", fileStore, "Download", o, downloadReq("sample.bin", 16384))
	if err != nil {
		return err
	}
	// Phase 1: read nothing for 1.5 heartbeats (staying alive). The server
	// must stop at the window and, blocked on credit, still ping.
	c.keepAlive(c.heartbeat / 4)
	var held []*nats.Msg
	deadline := time.Now().Add(c.heartbeat * 3 / 2)
	for time.Now().Before(deadline) {
		m, err := c.recv(time.Until(deadline))
		if err != nil {
			break
		}
		switch kind(m) {
		case wire.KPing, wire.KCredit:
			c.noteControl(m)
		case wire.KMsg:
			held = append(held, m)
		default:
			c.stopKeepAlive()
			return fmt.Errorf("unexpected %s while not reading", describe(m))
		}
	}
	c.stopKeepAlive()
	if len(held) != window {
		return fmt.Errorf("server sent %d msgs before any grant, window %d", len(held), window)
	}
	if c.pings == 0 {
		return fmt.Errorf("server blocked on credit sent no ping in %v (heartbeat %v)", c.heartbeat*3/2, c.heartbeat)
	}
	// Phase 2: a slow reader (2 ms per chunk) granting consumed+W at W/2.
	var r readResult
	for _, m := range held {
		if err := c.consumeChunk(&r, m); err != nil {
			return err
		}
	}
	if err := c.sendCreditMsg(c.consumed + window); err != nil {
		return err
	}
	if err := c.readMore(&r, window, 2*time.Millisecond, 10*time.Second); err != nil {
		return err
	}
	if r.maxAhead > 0 {
		return fmt.Errorf("server ran %d msgs ahead of the credit granted (window %d)", r.maxAhead, window)
	}
	if !equalBytes(r.data, sample) {
		return fmt.Errorf("slow download got %d bytes that differ from sample.bin", len(r.data))
	}
	return nil
}

func checkCreditZero(h *harness) error {
	o := defaultOpen()
	o.credit, o.heartbeat = "0", "1000000u"
	c, err := h.openAccepted("cz", fileStore, "Download", o, downloadReq("sample.bin", 16384))
	if err != nil {
		return err
	}
	c.keepAlive(c.heartbeat / 4)
	defer c.stopKeepAlive()
	if err := c.quiet(700*time.Millisecond, true); err != nil {
		return fmt.Errorf("with credit 0: %v", err)
	}
	// Credit is cumulative (9.5): the same grant twice, and a smaller one in
	// a ping, still allow only seq 1 and 2.
	if err := c.sendCreditMsg(2); err != nil {
		return err
	}
	c.sendCreditMsg(2)
	c.send(hdr(wire.HStream, wire.KPing, wire.HCredit, "1"), nil)
	for i := 1; i <= 2; i++ {
		m, err := c.next(3 * time.Second)
		if err != nil {
			return fmt.Errorf("after credit 2: %v", err)
		}
		if kind(m) != wire.KMsg || m.Header.Get(wire.HSeq) != fmt.Sprint(i) {
			return fmt.Errorf("after credit 2: want msg %d, got %s", i, describe(m))
		}
	}
	if err := c.quiet(500*time.Millisecond, true); err != nil {
		return fmt.Errorf("credit 2 granted twice, then 1: %v (credit is cumulative)", err)
	}
	return c.sendCancel()
}

// ---- heartbeats, liveness, deadline (9.6, 9.7) ----

func checkHeartbeatNegotiation(h *harness) error {
	open := func(hb string) (*call, error) {
		o := defaultOpen()
		o.heartbeat = hb
		c, err := h.openAccepted("hb", chatRoom, "Chat", o, nil)
		if err != nil {
			return nil, fmt.Errorf("proposing %q: %v", hb, err)
		}
		c.sendCancel()
		return c, nil
	}
	low, err := open("100m")
	if err != nil {
		return err
	}
	if low.heartbeat < 100*time.Millisecond {
		return fmt.Errorf("proposed 100ms, accept says %v: lower than proposed", low.heartbeat)
	}
	mid, err := open("2S")
	if err != nil {
		return err
	}
	// The server's minimum is low.heartbeat (or below 100ms): 2 s is kept
	// unless that minimum is higher.
	want := 2 * time.Second
	if low.heartbeat > want {
		want = low.heartbeat
	}
	if mid.heartbeat != want {
		return fmt.Errorf("proposed 2S (server minimum %v), accept says %v, want %v", low.heartbeat, mid.heartbeat, want)
	}
	none, err := open("")
	if err != nil {
		return fmt.Errorf("open without Natsrpc-Heartbeat: %v", err)
	}
	if none.heartbeat <= 0 {
		return fmt.Errorf("open without Natsrpc-Heartbeat: accept has none")
	}
	return nil
}

func checkServerPings(h *harness) error {
	o := defaultOpen()
	o.heartbeat = "1000000u"
	c, err := h.openAccepted("ping", chatRoom, "Chat", o, nil)
	if err != nil {
		return err
	}
	accepted := time.Now()
	credit := c.sendCredit
	c.keepAlive(c.heartbeat / 4)
	var times []time.Time
	deadline := accepted.Add(c.heartbeat*7/2 + 50*time.Millisecond)
	for time.Now().Before(deadline) {
		m, err := c.recv(time.Until(deadline))
		if err != nil {
			break
		}
		if kind(m) != wire.KPing {
			c.stopKeepAlive()
			return fmt.Errorf("idle stream got %s", describe(m))
		}
		if got := m.Header.Get(wire.HCredit); got != fmt.Sprint(credit) {
			c.stopKeepAlive()
			return fmt.Errorf("ping carries Natsrpc-Credit %q, want the cumulative %d", got, credit)
		}
		times = append(times, time.Now())
	}
	c.stopKeepAlive()
	if len(times) < 3 {
		return fmt.Errorf("%d pings in %v with heartbeat %v, want at least 3", len(times), c.heartbeat*7/2, c.heartbeat)
	}
	prev := accepted
	for i, t := range times {
		gap := t.Sub(prev)
		if gap < c.heartbeat*8/10 || gap > c.heartbeat*16/10 {
			return fmt.Errorf("ping %d came %v after the previous message, heartbeat %v", i+1, gap.Round(time.Millisecond), c.heartbeat)
		}
		prev = t
	}
	if err := c.sendEnd(0); err != nil {
		return err
	}
	m, err := c.next(5 * time.Second)
	if err != nil {
		return err
	}
	if kind(m) != wire.KEnd || m.Header.Get(wire.HCount) != "0" || errCode(m) != 0 {
		return fmt.Errorf("want end count 0 OK after our end, got %s", describe(m))
	}
	return nil
}

func checkLiveness(h *harness) error {
	o := defaultOpen()
	o.heartbeat = "1000000u"
	c := h.newCall("lv", chatRoom, "Chat")
	opened := time.Now()
	if err := c.open(o, nil); err != nil {
		return err
	}
	if err := c.expectAccept(5 * time.Second); err != nil {
		return err
	}
	// Silent from here: the open was our last message.
	m, err := c.next(3*c.heartbeat + 3*time.Second)
	if err != nil {
		return fmt.Errorf("silent client: %v", err)
	}
	took := time.Since(opened)
	if err := expectStatusFrame(m, wire.KCancel, wire.Cancelled); err != nil {
		return fmt.Errorf("silent client: %v", err)
	}
	if took < 3*c.heartbeat-50*time.Millisecond || took > 3*c.heartbeat+800*time.Millisecond {
		return fmt.Errorf("server ended the silent stream after %v, want 3 heartbeats (%v) + at most 800ms", took.Round(time.Millisecond), 3*c.heartbeat)
	}
	if c.pings < 2 {
		return fmt.Errorf("server sent %d pings before giving up, want 2 (at 1 and 2 heartbeats)", c.pings)
	}
	if _, err := h.waitLog(2*time.Second, "lv", "Chat -> CANCELLED"); err != nil {
		return err
	}
	return h.assertServes("lv2")
}

func checkDeadline(h *harness) error {
	o := defaultOpen()
	o.heartbeat, o.timeout = "1000000u", "1500m"
	c := h.newCall("dx", chatRoom, "Chat")
	opened := time.Now()
	if err := c.open(o, nil); err != nil {
		return err
	}
	if err := c.expectAccept(5 * time.Second); err != nil {
		return err
	}
	c.keepAlive(c.heartbeat / 4)
	defer c.stopKeepAlive()
	m, err := c.next(5 * time.Second)
	if err != nil {
		return fmt.Errorf("stream with a 1.5 s deadline: %v", err)
	}
	took := time.Since(opened)
	if err := expectStatusFrame(m, "", wire.DeadlineExceeded); err != nil {
		return err
	}
	if took < 1450*time.Millisecond || took > 2300*time.Millisecond {
		return fmt.Errorf("deadline 1.5 s ended the stream after %v", took.Round(time.Millisecond))
	}
	return nil
}

// ---- cancellation (9.8) ----

func checkCancelAfterAccept(h *harness) error {
	o := defaultOpen()
	o.credit, o.heartbeat = "4", "1000000u"
	c, err := h.openAccepted("cx", fileStore, "Download", o, downloadReq("sample.bin", 1024))
	if err != nil {
		return err
	}
	for i := 1; i <= 3; i++ {
		m, err := c.next(5 * time.Second)
		if err != nil || kind(m) != wire.KMsg {
			return fmt.Errorf("want msg %d, got %s (%v)", i, describe(m), err)
		}
	}
	if err := c.sendCancel(); err != nil {
		return err
	}
	if _, err := h.waitLog(2*time.Second, "cx", "Download(sample.bin) -> CANCELLED"); err != nil {
		return fmt.Errorf("handler did not stop: %v", err)
	}
	// Nothing more: msg 4 may have been in flight; no ping, end or cancel.
	deadline := time.Now().Add(c.heartbeat * 13 / 10)
	for {
		m, err := c.recv(time.Until(deadline))
		if err != nil {
			return nil
		}
		if kind(m) == wire.KMsg && m.Header.Get(wire.HSeq) == "4" {
			continue
		}
		return fmt.Errorf("after our cancel the server sent %s", describe(m))
	}
}

func checkCancelChat(h *harness) error {
	o := defaultOpen()
	o.heartbeat = "1000000u"
	c, err := h.openAccepted("cc", chatRoom, "Chat", o, nil)
	if err != nil {
		return err
	}
	c.sendMsg(1, chatMsg("cc", "one"))
	if m, err := c.next(5 * time.Second); err != nil || kind(m) != wire.KMsg {
		return fmt.Errorf("want the answer, got %s (%v)", describe(m), err)
	}
	if err := c.sendCancel(); err != nil {
		return err
	}
	if _, err := h.waitLog(2*time.Second, "cc", "Chat -> CANCELLED"); err != nil {
		return fmt.Errorf("handler did not stop: %v", err)
	}
	if err := c.quiet(c.heartbeat*13/10, false); err != nil {
		return fmt.Errorf("after our cancel: %v", err)
	}
	return nil
}

// openCancelPairs publishes n opens, each followed at once by its cancel on
// the cancel subject, then waits `settle` and reports the streams that the
// server still runs (it pinged them) and how many it accepted.
func openCancelPairs(h *harness, requester, service, method string, payload []byte, n int) (running []string, accepted int, err error) {
	o := defaultOpen()
	o.heartbeat = "1000000u"
	calls := make([]*call, n)
	for i := range calls {
		c := h.newCall(requester, service, method)
		if err := c.open(o, payload); err != nil {
			return nil, 0, err
		}
		if err := c.cancelBeforeAccept(); err != nil {
			return nil, 0, err
		}
		calls[i] = c
	}
	if err := h.nc.Flush(); err != nil {
		return nil, 0, err
	}
	// A running stream pings after one heartbeat (1 s, or the server's
	// minimum if higher: the accept says). Wait 1.6 heartbeats.
	hb := time.Second
	settle := time.Now().Add(hb * 16 / 10)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func(c *call) {
			defer wg.Done()
			gotAccept, pinged := false, false
			for {
				m, err := c.recv(time.Until(settle))
				if err != nil {
					break
				}
				switch kind(m) {
				case wire.KAccept:
					gotAccept = true
					if d, err := wire.DecodeTimeout(m.Header.Get(wire.HHeartbeat)); err == nil && d > hb {
						pinged = true // cannot judge: report it as running
					}
				case wire.KPing:
					pinged = true
				}
			}
			mu.Lock()
			if gotAccept {
				accepted++
			}
			if pinged {
				running = append(running, fmt.Sprint(c.seq))
			}
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	return running, accepted, nil
}

func checkCancelBeforeAccept(h *harness) error {
	const n = 10
	running, accepted, err := openCancelPairs(h, "cb", fileStore, "Download", downloadReq("sample.bin", 1024), n)
	if err != nil {
		return err
	}
	if len(running) > 0 {
		return fmt.Errorf("%d of %d streams cancelled right after their open still ran 1.6 s later (pinged; known bug a, issue 10)", len(running), n)
	}
	// Not checked: the server's log. A server may rightly accept and then
	// drop such a stream without running its handler (9.8: "a queued call is
	// removed without running the handler"), so the wire is the evidence.
	_ = accepted
	return nil
}

func checkBugOpenCancelRace(h *harness) error {
	const n = 200
	running, accepted, err := openCancelPairs(h, "race", chatRoom, "Chat", nil, n)
	if err != nil {
		return err
	}
	if len(running) > 0 {
		return fmt.Errorf("%d of %d streams (%d accepted) still ran 1.6 s after open+cancel (they pinged): the cancel before accept was lost", len(running), n, accepted)
	}
	return nil
}

// ---- refusals (9.3) and subject checks (5, 9.2) ----

func checkUnaryToStream(h *harness) error {
	c := h.newCall("un", fileStore, "Download")
	err := c.publish(c.openSubject(), c.reply, hdr(wire.HTimeout, "5000000u", wire.HCType, wire.ProtobufType),
		downloadReq("sample.bin", 0))
	if err != nil {
		return err
	}
	m, err := c.recv(3 * time.Second)
	if err != nil {
		return fmt.Errorf("unary request to a server-stream method: %v", err)
	}
	if kind(m) != "" {
		return fmt.Errorf("unary request got a stream message: %s", describe(m))
	}
	if errCode(m) != wire.Unimplemented {
		return fmt.Errorf("want a unary UNIMPLEMENTED reply, got %s", describe(m))
	}
	return c.quiet(300*time.Millisecond, false)
}

// expectRefusalEnd reads one reply and checks it is the refusal of 9.3.2.
func expectRefusalEnd(c *call, want int) error {
	m, err := c.recv(3 * time.Second)
	if err != nil {
		return err
	}
	if kind(m) == "" {
		return fmt.Errorf("got a plain unary error reply (%s %q), want end with Natsrpc-Count 0 and %s (9.3.2)",
			wire.CodeName(errCode(m)), m.Header.Get(wire.HErr), wire.CodeName(want))
	}
	if err := expectStatusFrame(m, wire.KEnd, want); err != nil {
		return err
	}
	if m.Header.Get(wire.HCount) != "0" {
		return fmt.Errorf("refusal end has Natsrpc-Count %q, want 0", m.Header.Get(wire.HCount))
	}
	return c.quiet(300*time.Millisecond, false)
}

func refusalEnd(requester, service, method string, o openOpts, want int) func(h *harness) error {
	return func(h *harness) error {
		c := h.newCall(requester, service, method)
		if err := c.open(o, nil); err != nil {
			return err
		}
		return expectRefusalEnd(c, want)
	}
}

func checkOpenWithoutCredit(h *harness) error {
	o := defaultOpen()
	o.credit = ""
	if err := refusalEnd("nc", chatRoom, "Chat", o, wire.InvalidArgument)(h); err != nil {
		return err
	}
	return h.assertServes("nc")
}

func checkOpenBadCredit(h *harness) error {
	for _, v := range []string{"-1", "abc", "1.5"} {
		o := defaultOpen()
		o.credit = v
		if err := refusalEnd("bcr", chatRoom, "Chat", o, wire.InvalidArgument)(h); err != nil {
			return fmt.Errorf("Natsrpc-Credit %q: %v", v, err)
		}
	}
	return nil
}

// control opens a valid stream after some messages the server must drop:
// its accept shows the server has processed what came before on the same
// subscription (one publisher's order).
func control(h *harness, requester string) error {
	c, err := h.openAccepted(requester, chatRoom, "Chat", defaultOpen(), nil)
	if err != nil {
		return fmt.Errorf("control stream: %v", err)
	}
	return c.sendCancel()
}

func checkOpenBadReplyTo(h *harness) error {
	inbox := make(chan *nats.Msg, 16)
	sub, err := h.nc.ChanSubscribe("_INBOX.conf.>", inbox)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	h.nc.Flush()
	c := h.newCall("br", chatRoom, "Chat")
	o := hdr(wire.HStream, wire.KOpen, wire.HCredit, "16", wire.HHeartbeat, "5000000u", wire.HTimeout, "30000000u")
	bad := []string{
		"_INBOX.conf.x1",                          // not a natsrpc reply-to
		"responses.mallory.bob.example_v1.cid.1",  // another requester
		"responses.br.carol.example_v1.cid.2",     // another responder
		"responses.br.bob.other_app.cid.3",        // another app
		"responses.br.bob.example_v1.cid",         // 5 tokens
		"responses.br.bob.example_v1.cid.4.extra", // 7 tokens
	}
	for _, r := range bad {
		if err := c.publish(c.openSubject(), r, o, nil); err != nil {
			return err
		}
	}
	if err := control(h, "br"); err != nil {
		return err
	}
	// The control's accept came after the server handled the bad opens; give
	// stragglers 200 ms more.
	time.Sleep(200 * time.Millisecond)
	var got []string
	for _, m := range h.strays("responses.mallory.") {
		got = append(got, describe(m))
	}
	for _, m := range h.strays("responses.br.") {
		got = append(got, describe(m))
	}
	select {
	case m := <-inbox:
		got = append(got, describe(m))
	default:
	}
	if len(got) > 0 {
		return fmt.Errorf("opens with a bad reply-to were answered: %s", strings.Join(got, " "))
	}
	return nil
}

func checkNonOpenOnMethodSubject(h *harness) error {
	c := h.newCall("no", chatRoom, "Chat")
	for _, k := range []string{wire.KMsg, wire.KEnd, wire.KCancel, wire.KPing, "bogus"} {
		if err := c.publish(c.openSubject(), c.reply, hdr(wire.HStream, k, wire.HSeq, "1", wire.HCount, "0",
			wire.HCredit, "16"), chatMsg("no", "early")); err != nil {
			return err
		}
	}
	if err := control(h, "no"); err != nil {
		return err
	}
	// Section 9.3.2: each gets one `end` with INVALID_ARGUMENT, and nothing else.
	for i := 0; i < 5; i++ {
		m, err := c.next(5 * time.Second)
		if err != nil {
			return fmt.Errorf("stream message %d of 5 before any accept: %v", i+1, err)
		}
		if err := expectStatusFrame(m, wire.KEnd, 3); err != nil {
			return fmt.Errorf("stream message %d of 5 before any accept: %v", i+1, err)
		}
	}
	if err := c.quiet(200*time.Millisecond, false); err != nil {
		return fmt.Errorf("stream messages before any accept: %v", err)
	}
	return nil
}

func checkUnknownStreamID(h *harness) error {
	c, err := h.openAccepted("us", chatRoom, "Chat", defaultOpen(), nil)
	if err != nil {
		return err
	}
	toks := strings.Split(c.streamSubj, ".")
	toks[7] = "999999999"
	if err := c.publish(strings.Join(toks, "."), "", hdr(wire.HStream, wire.KMsg, wire.HSeq, "1"),
		chatMsg("us", "to nobody")); err != nil {
		return err
	}
	toks[7] = "cancel"
	c.publish(strings.Join(toks, "."), "", hdr(wire.HStream, wire.KMsg, wire.HSeq, "1"), chatMsg("us", "to nobody"))
	// The real stream is unaffected: its first msg is still seq 1.
	c.sendMsg(1, chatMsg("us", "one"))
	m, err := c.next(5 * time.Second)
	if err != nil {
		return err
	}
	var in pb.ChatMessage
	if kind(m) != wire.KMsg || proto.Unmarshal(m.Data, &in) != nil || in.Text != "heard us say 1 word" {
		return fmt.Errorf("want the answer to our msg, got %s", describe(m))
	}
	c.consumed = 1
	c.sendEnd(1)
	m, err = c.next(5 * time.Second)
	if err != nil {
		return err
	}
	if kind(m) != wire.KEnd || m.Header.Get(wire.HCount) != "1" || errCode(m) != 0 {
		return fmt.Errorf("want end count 1 OK, got %s", describe(m))
	}
	return nil
}

func checkStreamOtherMethod(h *harness) error {
	c, err := h.openAccepted("om", chatRoom, "Chat", defaultOpen(), nil)
	if err != nil {
		return err
	}
	// Same instance and stream id, other method; then other requester (no
	// authorization here, so we can pretend to be mallory).
	toks := strings.Split(c.streamSubj, ".")
	toks[4], toks[5] = "FileStore", "Upload"
	if err := c.publish(strings.Join(toks, "."), "", hdr(wire.HStream, wire.KMsg, wire.HSeq, "1"),
		chatMsg("om", "wrong subject")); err != nil {
		return err
	}
	toks = strings.Split(c.streamSubj, ".")
	toks[1] = "mallory"
	c.publish(strings.Join(toks, "."), "", hdr(wire.HStream, wire.KMsg, wire.HSeq, "1"), chatMsg("om", "wrong requester"))
	c.publish(strings.Join(toks, "."), "", hdr(wire.HStream, wire.KCancel), nil)
	c.sendMsg(1, chatMsg("om", "right subject here"))
	m, err := c.next(5 * time.Second)
	if err != nil {
		return err
	}
	var in pb.ChatMessage
	if kind(m) != wire.KMsg || proto.Unmarshal(m.Data, &in) != nil {
		return fmt.Errorf("want an answer, got %s", describe(m))
	}
	if in.Text != "heard om say 3 words" {
		return fmt.Errorf("the bot answered %q: it took the msg sent to another method's stream subject", in.Text)
	}
	c.consumed = 1
	c.sendEnd(1)
	m, err = c.next(5 * time.Second)
	if err != nil {
		return err
	}
	if kind(m) != wire.KEnd || m.Header.Get(wire.HCount) != "1" || errCode(m) != 0 {
		return fmt.Errorf("want end count 1 OK, got %s", describe(m))
	}
	return nil
}

// ---- malformed frames (9.1, 9.4) ----

var malformedSeq int

// malformed opens a stream, lets act break it, and expects the server's
// cancel with the given status; then a fresh stream must work.
func malformed(service, method, codeName string, code int, act func(c *call) error) func(h *harness) error {
	malformedSeq++
	requester := fmt.Sprintf("mf%d", malformedSeq)
	return func(h *harness) error {
		o := defaultOpen()
		if method == "Upload" {
			o = uploadOpen("conf-" + requester + ".bin")
		}
		c, err := h.openAccepted(requester, service, method, o, nil)
		if err != nil {
			return err
		}
		if err := act(c); err != nil {
			return err
		}
		m, err := c.next(3 * time.Second)
		if err != nil {
			return fmt.Errorf("want the server's cancel with %s: %v", codeName, err)
		}
		if err := expectStatusFrame(m, wire.KCancel, code); err != nil {
			return err
		}
		if err := c.quiet(200*time.Millisecond, false); err != nil {
			return fmt.Errorf("after its cancel: %v", err)
		}
		return h.assertServes(requester + "f")
	}
}

func malformedDownload(h *harness) error {
	o := defaultOpen()
	o.credit = "2"
	c, err := h.openAccepted("ds", fileStore, "Download", o, downloadReq("sample.bin", 1024))
	if err != nil {
		return err
	}
	if err := c.sendMsg(1, chunkBytes(0, 10)); err != nil {
		return err
	}
	for {
		m, err := c.next(3 * time.Second)
		if err != nil {
			return fmt.Errorf("data sent on a server stream: %v", err)
		}
		if kind(m) == wire.KMsg {
			continue // the server's own msgs 1 and 2
		}
		if err := expectStatusFrame(m, wire.KCancel, wire.Internal); err != nil {
			return fmt.Errorf("data sent on a server stream: %v", err)
		}
		break
	}
	if _, err := h.waitLog(2*time.Second, "ds", "Download(sample.bin) -> CANCELLED"); err != nil {
		return fmt.Errorf("handler did not stop: %v", err)
	}
	return h.assertServes("dsf")
}

func checkSecondAccept(h *harness) error {
	c, err := h.openAccepted("sa", chatRoom, "Chat", defaultOpen(), nil)
	if err != nil {
		return err
	}
	c.send(hdr(wire.HStream, wire.KAccept, wire.HCredit, "16", wire.HHeartbeat, "5000000u"), nil)
	c.send(hdr(wire.HStream, wire.KOpen, wire.HCredit, "16", wire.HHeartbeat, "5000000u"), nil)
	c.sendMsg(1, chatMsg("sa", "after the repeats"))
	m, err := c.next(5 * time.Second)
	if err != nil {
		return err
	}
	var in pb.ChatMessage
	if kind(m) != wire.KMsg || proto.Unmarshal(m.Data, &in) != nil || in.Text != "heard sa say 3 words" {
		return fmt.Errorf("want the answer, got %s", describe(m))
	}
	c.consumed = 1
	c.sendEnd(1)
	m, err = c.next(5 * time.Second)
	if err != nil {
		return err
	}
	if kind(m) != wire.KEnd || m.Header.Get(wire.HCount) != "1" || errCode(m) != 0 {
		return fmt.Errorf("want end count 1 OK, got %s", describe(m))
	}
	return nil
}

// A msg after the client's end: the server (Chat with credit 0, so its
// handler waits to answer msg 1 and cannot finish) must end with DATA_LOSS.
func checkMsgAfterEnd(h *harness) error {
	o := defaultOpen()
	o.credit = "0"
	c, err := h.openAccepted("mae", chatRoom, "Chat", o, nil)
	if err != nil {
		return err
	}
	c.sendMsg(1, chatMsg("mae", "one"))
	c.sendEnd(1)
	c.sendMsg(2, chatMsg("mae", "after the end"))
	m, err := c.next(3 * time.Second)
	if err != nil {
		return fmt.Errorf("want the server's cancel with DATA_LOSS: %v", err)
	}
	if err := expectStatusFrame(m, wire.KCancel, wire.DataLoss); err != nil {
		return err
	}
	if err := c.quiet(200*time.Millisecond, false); err != nil {
		return fmt.Errorf("after its cancel: %v", err)
	}
	return h.assertServes("maef")
}

// A cancel on the cancel subject that crosses the accept (the client sent it
// before it saw the accept) must still stop the accepted stream (9.8: "the
// instance running ... the call whose reply-to is ... cancels it").
func checkCancelSubjectAfterAccept(h *harness) error {
	o := defaultOpen()
	o.credit, o.heartbeat = "1", "1000000u"
	c, err := h.openAccepted("cs", fileStore, "Download", o, downloadReq("sample.bin", 1024))
	if err != nil {
		return err
	}
	if m, err := c.next(5 * time.Second); err != nil || kind(m) != wire.KMsg {
		return fmt.Errorf("want msg 1, got %s (%v)", describe(m), err)
	}
	if err := c.cancelBeforeAccept(); err != nil {
		return err
	}
	if _, err := h.waitLog(2*time.Second, "cs", "Download(sample.bin) -> CANCELLED"); err != nil {
		return fmt.Errorf("handler did not stop: %v", err)
	}
	if err := c.quiet(c.heartbeat*13/10, false); err != nil {
		return fmt.Errorf("after the cancel: %v", err)
	}
	return nil
}
