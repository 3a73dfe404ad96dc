package main

// Stream helpers built on the harness: typed payloads of
// proto/example/v1/streaming.proto, a reader that grants credit like the
// spec describes, and an uploader that never exceeds the server's credit.

import (
	"bytes"
	"fmt"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/nats-io/nats.go"

	pb "natsrpcconf/examplepb"
	"natsrpcconf/wire"
)

const (
	fileStore = "FileStore"
	chatRoom  = "ChatRoom"
	sampleLen = 1 << 20
)

var sample = wire.SampleFile(sampleLen)

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func downloadReq(name string, chunk int32) []byte {
	return mustMarshal(&pb.DownloadRequest{Name: name, ChunkSize: chunk})
}

func chatMsg(from, text string) []byte {
	return mustMarshal(&pb.ChatMessage{From: from, Text: text})
}

// openAccepted opens a stream and waits for its accept.
func (h *harness) openAccepted(requester, service, method string, o openOpts, payload []byte) (*call, error) {
	c := h.newCall(requester, service, method)
	if err := c.open(o, payload); err != nil {
		return nil, err
	}
	if err := c.expectAccept(5 * time.Second); err != nil {
		return nil, err
	}
	return c, nil
}

// readResult is what readStream saw.
type readResult struct {
	data     []byte
	msgs     int
	maxAhead int64  // max over msgs of seq - credit granted when it arrived
	maxHeld  uint64 // max unconsumed msgs (always 1 here: we consume in order)
	end      *nats.Msg
}

// readDownload reads Chunk msgs until the server's end, in order, granting
// consumed+window whenever the outstanding credit falls to window/2 (9.5),
// pausing `pause` per message to be a slow reader.
func (c *call) readDownload(window uint64, pause time.Duration, wait time.Duration) (readResult, error) {
	var r readResult
	err := c.readMore(&r, window, pause, wait)
	return r, err
}

// consumeChunk takes one Chunk msg in order.
func (c *call) consumeChunk(r *readResult, m *nats.Msg) error {
	seq, ok := wire.ParseCounter(m.Header.Get(wire.HSeq))
	if !ok {
		return fmt.Errorf("msg without a valid Natsrpc-Seq: %s", describe(m))
	}
	if seq != c.consumed+1 {
		return fmt.Errorf("msg seq %d, want %d (order)", seq, c.consumed+1)
	}
	var ch pb.Chunk
	if err := proto.Unmarshal(m.Data, &ch); err != nil {
		return fmt.Errorf("msg %d does not decode as Chunk: %v", seq, err)
	}
	if ch.Offset != int64(len(r.data)) {
		return fmt.Errorf("msg %d has offset %d, want %d", seq, ch.Offset, len(r.data))
	}
	r.data = append(r.data, ch.Data...)
	r.msgs++
	c.consumed = seq
	return nil
}

// readMore goes on reading into r until the end.
func (c *call) readMore(r *readResult, window uint64, pause time.Duration, wait time.Duration) error {
	for {
		m, err := c.next(wait)
		if err != nil {
			return fmt.Errorf("after %d msgs: %v", r.msgs, err)
		}
		switch kind(m) {
		case wire.KMsg:
			if seq, ok := wire.ParseCounter(m.Header.Get(wire.HSeq)); ok {
				if ahead := int64(seq) - int64(c.granted); ahead > r.maxAhead {
					r.maxAhead = ahead
				}
			}
			if pause > 0 {
				time.Sleep(pause) // the slow reader "processes" the chunk
			}
			if err := c.consumeChunk(r, m); err != nil {
				return err
			}
			if c.granted-c.consumed <= window/2 {
				if err := c.sendCreditMsg(c.consumed + window); err != nil {
					return err
				}
			}
		case wire.KEnd:
			r.end = m
			n, ok := wire.ParseCounter(m.Header.Get(wire.HCount))
			if !ok {
				return fmt.Errorf("end without a valid Natsrpc-Count: %s", describe(m))
			}
			if code := errCode(m); code != 0 {
				return fmt.Errorf("stream ended with %s: %s", wire.CodeName(code), m.Header.Get(wire.HErr))
			}
			if n != uint64(r.msgs) {
				return fmt.Errorf("end has count %d but %d msgs arrived", n, r.msgs)
			}
			return nil
		default:
			return fmt.Errorf("after %d msgs: unexpected %s", r.msgs, describe(m))
		}
	}
}

// waitSendCredit waits until the server's credit covers seq.
func (c *call) waitSendCredit(seq uint64, d time.Duration) error {
	deadline := time.Now().Add(d)
	for c.sendCredit < seq {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("no credit for msg %d within %v (credit %d)", seq, d, c.sendCredit)
		}
		m, err := c.recv(left)
		if err != nil {
			return fmt.Errorf("no credit for msg %d within %v (credit %d)", seq, d, c.sendCredit)
		}
		switch kind(m) {
		case wire.KPing, wire.KCredit:
			c.noteControl(m)
		default:
			return fmt.Errorf("waiting for credit for msg %d: unexpected %s", seq, describe(m))
		}
	}
	return nil
}

// uploadChunks sends data as Chunk msgs of size `size` within the server's
// credit, then end; returns how many it sent.
func (c *call) uploadChunks(data []byte, size int) (int, error) {
	n := 0
	for off := 0; off < len(data); off += size {
		endOff := off + size
		if endOff > len(data) {
			endOff = len(data)
		}
		seq := c.sent + 1
		if err := c.waitSendCredit(seq, 10*time.Second); err != nil {
			return n, err
		}
		if err := c.sendMsg(seq, mustMarshal(&pb.Chunk{Offset: int64(off), Data: data[off:endOff]})); err != nil {
			return n, err
		}
		c.sent = seq
		n++
	}
	return n, c.sendEnd(c.sent)
}

// expectUploadReply reads a client stream's reply (9.4): msg seq 1, then end
// with count 1 and no error.
func (c *call) expectUploadReply(data []byte) error {
	m, err := c.next(10 * time.Second)
	if err != nil {
		return fmt.Errorf("waiting for the reply: %v", err)
	}
	if kind(m) != wire.KMsg || m.Header.Get(wire.HSeq) != "1" {
		return fmt.Errorf("want msg seq 1 (the reply), got %s", describe(m))
	}
	var reply pb.UploadReply
	if err := proto.Unmarshal(m.Data, &reply); err != nil {
		return fmt.Errorf("reply does not decode: %v", err)
	}
	end, err := c.next(5 * time.Second)
	if err != nil {
		return fmt.Errorf("waiting for end after the reply: %v", err)
	}
	if kind(end) != wire.KEnd || end.Header.Get(wire.HCount) != "1" || errCode(end) != 0 {
		return fmt.Errorf("want end with count 1 and OK, got %s", describe(end))
	}
	f := wire.NewFnv()
	f.Add(data)
	if reply.Size != int64(len(data)) || reply.Checksum != f.Hex() {
		return fmt.Errorf("server stored %d bytes with fnv1a %s, want %d bytes, %s",
			reply.Size, reply.Checksum, len(data), f.Hex())
	}
	return nil
}

// assertServes checks that a fresh stream still works after a check that
// broke one: a Chat with one message each way and a clean end.
func (h *harness) assertServes(requester string) error {
	c, err := h.openAccepted(requester, chatRoom, "Chat", defaultOpen(), nil)
	if err != nil {
		return fmt.Errorf("fresh stream afterwards: %v", err)
	}
	if err := c.waitSendCredit(1, 5*time.Second); err != nil {
		return fmt.Errorf("fresh stream afterwards: %v", err)
	}
	if err := c.sendMsg(1, chatMsg(requester, "still there")); err != nil {
		return err
	}
	m, err := c.next(5 * time.Second)
	if err != nil {
		return fmt.Errorf("fresh stream afterwards: %v", err)
	}
	var in pb.ChatMessage
	if kind(m) != wire.KMsg || proto.Unmarshal(m.Data, &in) != nil ||
		in.Text != fmt.Sprintf("heard %s say 2 words", requester) {
		return fmt.Errorf("fresh stream afterwards: want the bot's answer, got %s", describe(m))
	}
	c.consumed = 1
	if err := c.sendEnd(1); err != nil {
		return err
	}
	end, err := c.next(5 * time.Second)
	if err != nil {
		return fmt.Errorf("fresh stream afterwards: %v", err)
	}
	if kind(end) != wire.KEnd || end.Header.Get(wire.HCount) != "1" || errCode(end) != 0 {
		return fmt.Errorf("fresh stream afterwards: want end count 1 OK, got %s", describe(end))
	}
	return nil
}

func equalBytes(a, b []byte) bool { return bytes.Equal(a, b) }
