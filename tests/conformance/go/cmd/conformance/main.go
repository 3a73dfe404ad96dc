// Command conformance checks a natsrpc streaming server (examples/streaming's
// streaming_server) against docs/protocol.md section 9, with plain nats.go
// publish/subscribe. It prints one line per check, "PASS <name>" or
// "FAIL <name>: <why>", and exits 1 if any failed.
//
//	conformance --url nats://127.0.0.1:4222 --responder bob --server-log server.log
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

type check struct {
	name string
	run  func(h *harness) error
}

func main() {
	url := flag.String("url", "nats://127.0.0.1:4222", "NATS server URL")
	responder := flag.String("responder", "bob", "the streaming server's responder")
	serverLog := flag.String("server-log", "", "the streaming server's stdout, to see its handlers end")
	only := flag.String("run", "", "only checks whose name matches this regexp")
	prefix := flag.String("name-prefix", "", "printed before every check name")
	flag.Parse()

	h, err := newHarness(*url, *responder, *serverLog)
	if err != nil {
		fmt.Printf("FAIL connect: %v\n", err)
		os.Exit(1)
	}
	defer h.nc.Close()
	var re *regexp.Regexp
	if *only != "" {
		re = regexp.MustCompile(*only)
	}
	failed := 0
	for _, c := range checks() {
		if re != nil && !re.MatchString(c.name) {
			continue
		}
		start := time.Now()
		err := runOne(h, c)
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			failed++
			fmt.Printf("FAIL %s%s: %s (%v)\n", *prefix, c.name, strings.ReplaceAll(err.Error(), "\n", " "), took)
		} else {
			fmt.Printf("PASS %s%s (%v)\n", *prefix, c.name, took)
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
}

func runOne(h *harness, c check) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.run(h)
}

func checks() []check {
	return []check{
		// Ordering and counts, all three kinds (9.4).
		{"server_stream_download_order_count", checkDownloadOrder},
		{"server_stream_error_end_not_found", checkDownloadNotFound},
		{"client_stream_upload_order_count_credit", checkUpload},
		{"client_stream_reorders_within_window", checkUploadReorder},
		{"client_stream_duplicate_seq_dropped", checkUploadDuplicate},
		{"bidi_chat_order_count", checkChat},
		// Flow control (9.5).
		{"credit_slow_reader_bounds_server", checkCreditSlowReader},
		{"credit_zero_on_open_then_cumulative_grants", checkCreditZero},
		// Heartbeats, liveness, deadline (9.6, 9.7).
		{"heartbeat_negotiation", checkHeartbeatNegotiation},
		{"heartbeat_server_pings_idle_stream", checkServerPings},
		{"liveness_server_ends_silent_client", checkLiveness},
		{"deadline_server_ends_stream", checkDeadline},
		// Cancellation (9.8).
		{"cancel_by_client_after_accept_stops_handler", checkCancelAfterAccept},
		{"cancel_by_client_bidi_stops_handler", checkCancelChat},
		{"cancel_subject_after_accept_stops_handler", checkCancelSubjectAfterAccept},
		{"BUG_a_cancel_before_accept_x10_stops_handlers", checkCancelBeforeAccept},
		// Refusals (9.3) and subject checks (5, 9.2).
		{"refuse_unary_request_to_stream_method", checkUnaryToStream},
		{"refuse_open_without_credit", checkOpenWithoutCredit},
		{"refuse_open_bad_credit", checkOpenBadCredit},
		{"open_bad_reply_to_dropped", checkOpenBadReplyTo},
		{"non_open_kind_on_method_subject_refused", checkNonOpenOnMethodSubject},
		{"stream_subject_unknown_stream_dropped", checkUnknownStreamID},
		{"stream_subject_other_method_or_requester_dropped", checkStreamOtherMethod},
		// Malformed frames (9.1, 9.4).
		{"malformed_msg_without_seq", malformed(fileStore, "Upload", "INTERNAL", 13, func(c *call) error {
			return c.send(hdr("Natsrpc-Stream", "msg"), chunkBytes(0, 10))
		})},
		{"malformed_msg_seq_not_decimal", malformed(fileStore, "Upload", "INTERNAL", 13, func(c *call) error {
			return c.send(hdr("Natsrpc-Stream", "msg", "Natsrpc-Seq", "1x"), chunkBytes(0, 10))
		})},
		{"malformed_msg_seq_zero", malformed(fileStore, "Upload", "INTERNAL", 13, func(c *call) error {
			return c.send(hdr("Natsrpc-Stream", "msg", "Natsrpc-Seq", "0"), chunkBytes(0, 10))
		})},
		{"malformed_credit_overrun", malformed(fileStore, "Upload", "RESOURCE_EXHAUSTED", 8, func(c *call) error {
			return c.sendMsg(c.sendCredit+1, chunkBytes(0, 10))
		})},
		{"malformed_end_count_too_high", malformed(fileStore, "Upload", "DATA_LOSS", 15, func(c *call) error {
			if err := c.sendMsg(1, chunkBytes(0, 10)); err != nil {
				return err
			}
			return c.sendEnd(2)
		})},
		{"malformed_end_count_too_low", malformed(fileStore, "Upload", "DATA_LOSS", 15, func(c *call) error {
			c.sendMsg(1, chunkBytes(0, 10))
			c.sendMsg(2, chunkBytes(10, 10))
			return c.sendEnd(1)
		})},
		{"malformed_end_with_gap", malformed(fileStore, "Upload", "DATA_LOSS", 15, func(c *call) error {
			c.sendMsg(1, chunkBytes(0, 10))
			c.sendMsg(3, chunkBytes(20, 10))
			return c.sendEnd(3)
		})},
		{"malformed_msg_after_end", checkMsgAfterEnd},
		{"malformed_end_without_count", malformed(chatRoom, "Chat", "INTERNAL", 13, func(c *call) error {
			return c.send(hdr("Natsrpc-Stream", "end"), nil)
		})},
		{"malformed_unknown_kind", malformed(chatRoom, "Chat", "INTERNAL", 13, func(c *call) error {
			return c.send(hdr("Natsrpc-Stream", "bogus", "Natsrpc-Credit", "16"), nil)
		})},
		{"malformed_no_stream_header", malformed(chatRoom, "Chat", "INTERNAL", 13, func(c *call) error {
			return c.send(hdr("Natsrpc-Credit", "16"), nil)
		})},
		{"malformed_data_on_server_stream", malformedDownload},
		{"second_open_or_accept_on_stream_ignored", checkSecondAccept},
		// Known server bugs (issue 10), expected to fail until fixed.
		{"BUG_a_open_then_cancel_x200_stops_all_handlers", checkBugOpenCancelRace},
		{"BUG_b_refuse_unknown_method_with_end", refusalEnd("bu", fileStore, "Nope", openOpts{credit: "16", heartbeat: "5000000u", timeout: "30000000u"}, 12)},
		{"BUG_b_refuse_zero_timeout_with_end", refusalEnd("bz", chatRoom, "Chat", openOpts{credit: "16", heartbeat: "5000000u", timeout: "0n"}, 4)},
		{"BUG_b_refuse_malformed_timeout_with_end", refusalEnd("bm", chatRoom, "Chat", openOpts{credit: "16", heartbeat: "5000000u", timeout: "5x"}, 3)},
	}
}
