// Command schemaclient calls a natsrpc method it was not compiled with,
// written from docs/protocol.md section 12 alone: it asks a service for its
// schema (the reserved method natsrpc-schema), builds the descriptors from
// the returned FileDescriptorSet (protodesc), makes the request message with
// dynamicpb, calls the method with plain nats.go and decodes the reply the
// same way.
//
//	schemaclient --url nats://127.0.0.1:4222 --responder bob \
//	    --app example_v1 --service Calculator --method Add --set a=40 --set b=2
//
// Prints one line per check ("PASS <name>" or "FAIL <name>: <why>"), the
// reply as text, and "N passed, M failed"; exit status 1 if a check failed.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"natsrpcconf/wire"
)

type fields []string

func (f *fields) String() string     { return strings.Join(*f, ",") }
func (f *fields) Set(v string) error { *f = append(*f, v); return nil }

var passed, failed int

func result(name string, err error) bool {
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", name, err)
		failed++
		return false
	}
	fmt.Printf("PASS %s\n", name)
	passed++
	return true
}

func finish() {
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
	os.Exit(0)
}

// call sends one natsrpc unary request (sections 2 and 3) and waits for its
// reply.
func call(nc *nats.Conn, replies chan *nats.Msg, subject, reply string,
	payload []byte) (*nats.Msg, error) {
	m := nats.NewMsg(subject)
	m.Reply = reply
	m.Header.Set(wire.HTimeout, "5S")
	m.Header.Set(wire.HCType, wire.ProtobufType)
	m.Data = payload
	if err := nc.PublishMsg(m); err != nil {
		return nil, err
	}
	select {
	case r := <-replies:
		if r.Subject != reply {
			return nil, fmt.Errorf("reply on %s, want %s", r.Subject, reply)
		}
		if code := r.Header.Get(wire.HErrCode); code != "" {
			return r, fmt.Errorf("error %s: %s", code, r.Header.Get(wire.HErr))
		}
		return r, nil
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("no reply to %s within 10 s", subject)
	}
}

func main() {
	url := flag.String("url", nats.DefaultURL, "NATS server")
	requester := flag.String("requester", "alice", "requester token")
	responder := flag.String("responder", "bob", "responder token")
	app := flag.String("app", "example_v1", "app token")
	service := flag.String("service", "Calculator", "service token")
	method := flag.String("method", "Add", "method to call")
	var set fields
	flag.Var(&set, "set", "field=integer of the request (repeatable)")
	want := flag.String("want", "", "expected reply in prototext (optional)")
	flag.Parse()

	nc, err := nats.Connect(*url, nats.Name("natsrpc-schemaclient"))
	if !result("connect", err) {
		finish()
	}
	defer nc.Close()
	id := wire.RandomToken(22)
	replies := make(chan *nats.Msg, 4)
	prefix := fmt.Sprintf("responses.%s.%s.%s.%s.", *requester, *responder,
		*app, id)
	if _, err := nc.ChanSubscribe(prefix+"*", replies); !result("subscribe", err) {
		finish()
	}
	base := fmt.Sprintf("requests.%s.%s.%s.%s.", *requester, *responder, *app,
		*service)

	// 1. The schema.
	r, err := call(nc, replies, base+"natsrpc-schema", prefix+"1", nil)
	if !result("schema_request_answered", err) {
		finish()
	}
	if enc := r.Header.Get("Natsrpc-Schema-Encoding"); enc != "protobuf-file-descriptor-set" {
		result("schema_encoding", fmt.Errorf("Natsrpc-Schema-Encoding %q", enc))
		finish()
	}
	result("schema_encoding", nil)
	fullName := r.Header.Get("Natsrpc-Schema-Service")
	set0 := &descriptorpb.FileDescriptorSet{}
	if !result("schema_is_a_file_descriptor_set", proto.Unmarshal(r.Data, set0)) {
		finish()
	}
	files, err := protodesc.NewFiles(set0)
	if !result("schema_builds_descriptors", err) {
		finish()
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(fullName))
	if !result("schema_names_the_service", err) {
		finish()
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		result("service_descriptor", fmt.Errorf("%s is not a service", fullName))
		finish()
	}
	if !strings.HasSuffix(fullName, "."+*service) && fullName != *service {
		result("service_name_matches", fmt.Errorf("%s for token %s", fullName, *service))
	}
	md := sd.Methods().ByName(protoreflect.Name(*method))
	if md == nil {
		result("method_in_schema", fmt.Errorf("%s has no method %s", fullName, *method))
		finish()
	}
	result("method_in_schema", nil)

	// 2. A request built from the descriptors alone.
	req := dynamicpb.NewMessage(md.Input())
	for _, kv := range set {
		name, value, _ := strings.Cut(kv, "=")
		fd := md.Input().Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			result("request_field_"+name, fmt.Errorf("%s has no field %s", md.Input().FullName(), name))
			finish()
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			result("request_field_"+name, err)
			finish()
		}
		req.Set(fd, protoreflect.ValueOfInt64(n))
	}
	payload, err := proto.Marshal(req)
	if !result("request_encodes", err) {
		finish()
	}

	// 3. The call and its reply, decoded with the schema.
	r, err = call(nc, replies, base+*method, prefix+"2", payload)
	if !result("method_call_ok", err) {
		finish()
	}
	resp := dynamicpb.NewMessage(md.Output())
	if !result("reply_decodes", proto.Unmarshal(r.Data, resp)) {
		finish()
	}
	text := prototext.MarshalOptions{}.Format(resp)
	fmt.Printf("%s.%s(%s) -> %s\n", fullName, *method, prototext.MarshalOptions{}.Format(req), text)
	if *want != "" {
		wantMsg := dynamicpb.NewMessage(md.Output())
		if err := prototext.Unmarshal([]byte(*want), wantMsg); err != nil {
			result("reply_as_expected", err)
		} else if !proto.Equal(resp, wantMsg) {
			result("reply_as_expected", fmt.Errorf("got {%s}, want {%s}", text, *want))
		} else {
			result("reply_as_expected", nil)
		}
	}
	finish()
}
