// Package wire holds what both Go programs of the conformance suite need from
// docs/protocol.md: header names, subjects, the Natsrpc-Timeout format, and
// the streaming example's file contents and checksum. Written from the spec
// (and, for the example's data, from examples/streaming), not from the C++
// runtime.
package wire

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Header names (protocol sections 3 and 9.1).
const (
	HStream    = "Natsrpc-Stream"
	HSeq       = "Natsrpc-Seq"
	HCount     = "Natsrpc-Count"
	HCredit    = "Natsrpc-Credit"
	HHeartbeat = "Natsrpc-Heartbeat"
	HTimeout   = "Natsrpc-Timeout"
	HCType     = "Content-Type"
	HErrCode   = "Nats-Service-Error-Code"
	HErr       = "Nats-Service-Error"

	ProtobufType = "application/protobuf"
)

// Stream message kinds (9.1).
const (
	KOpen   = "open"
	KAccept = "accept"
	KMsg    = "msg"
	KEnd    = "end"
	KCancel = "cancel"
	KCredit = "credit"
	KPing   = "ping"
)

// Status codes used by the suite (section 4).
const (
	OK                 = 0
	Cancelled          = 1
	Unknown            = 2
	InvalidArgument    = 3
	DeadlineExceeded   = 4
	NotFound           = 5
	FailedPrecondition = 9
	ResourceExhausted  = 8
	Unimplemented      = 12
	Internal           = 13
	Unavailable        = 14
	DataLoss           = 15
)

var codeNames = map[int]string{0: "OK", 1: "CANCELLED", 2: "UNKNOWN",
	3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
	6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
	9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE",
	12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS",
	16: "UNAUTHENTICATED"}

// CodeName is the status code's name, e.g. "NOT_FOUND".
func CodeName(code int) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return fmt.Sprintf("code %d", code)
}

// IsToken reports whether s is one subject token (section 1).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// RandomToken returns n random base62 characters (a client or instance id).
func RandomToken(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		v, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

// RequestSubject is requests.<R>.<P>.<A>.<service>.<method> (section 2).
func RequestSubject(r, p, a, service, method string) string {
	return strings.Join([]string{"requests", r, p, a, service, method}, ".")
}

// ReplySubject is responses.<R>.<P>.<A>.<client id>.<seq> (section 2).
func ReplySubject(r, p, a, clientID string, seq uint64) string {
	return fmt.Sprintf("responses.%s.%s.%s.%s.%d", r, p, a, clientID, seq)
}

// CancelSubject is the 9-token cancel subject of 9.2.
func CancelSubject(r, p, a, service, method, clientID string, seq uint64) string {
	return fmt.Sprintf("requests.%s.%s.%s.%s.%s.cancel.%s.%d", r, p, a, service, method, clientID, seq)
}

// EncodeTimeout writes d in the Natsrpc-Timeout form (section 3): the finest
// unit whose value fits in 8 digits, rounded up.
func EncodeTimeout(d time.Duration) string {
	if d <= 0 {
		return "0n"
	}
	units := []struct {
		unit string
		size time.Duration
	}{{"n", time.Nanosecond}, {"u", time.Microsecond}, {"m", time.Millisecond},
		{"S", time.Second}, {"M", time.Minute}, {"H", time.Hour}}
	for _, u := range units {
		v := (d + u.size - 1) / u.size
		if v <= 99999999 {
			return fmt.Sprintf("%d%s", v, u.unit)
		}
	}
	return "99999999H"
}

// DecodeTimeout parses the Natsrpc-Timeout form: 1 to 8 digits and a unit.
func DecodeTimeout(s string) (time.Duration, error) {
	if len(s) < 2 || len(s) > 9 {
		return 0, fmt.Errorf("bad timeout %q", s)
	}
	digits, unit := s[:len(s)-1], s[len(s)-1]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad timeout %q", s)
		}
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad timeout %q", s)
	}
	var size time.Duration
	switch unit {
	case 'H':
		size = time.Hour
	case 'M':
		size = time.Minute
	case 'S':
		size = time.Second
	case 'm':
		size = time.Millisecond
	case 'u':
		size = time.Microsecond
	case 'n':
		size = time.Nanosecond
	default:
		return 0, fmt.Errorf("bad timeout unit in %q", s)
	}
	return time.Duration(v) * size, nil
}

// ParseCounter parses a decimal header value (seq, count, credit).
func ParseCounter(s string) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// Fnv1a64 is the streaming example's checksum (examples/streaming/checksum.h),
// as 16 lower-case hex digits.
type Fnv1a64 struct{ h uint64 }

func NewFnv() *Fnv1a64 { return &Fnv1a64{h: 0xcbf29ce484222325} }

func (f *Fnv1a64) Add(b []byte) {
	for _, c := range b {
		f.h ^= uint64(c)
		f.h *= 0x100000001b3
	}
}

func (f *Fnv1a64) Hex() string { return fmt.Sprintf("%016x", f.h) }

// SampleFile is the streaming example server's sample.bin of the given size
// (xorshift32 from 2463534242, the low byte of each step).
func SampleFile(size int) []byte {
	data := make([]byte, size)
	x := uint32(2463534242)
	for i := range data {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		data[i] = byte(x)
	}
	return data
}
