//go:build pcsc

package pcsctest

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// The simulated card as OpenSC's own tools see it through pcscd and vpcd
// (docs/tcos.md): its TCOS 3.0 driver (card-tcos.c) selects with FCP, reads
// the security attributes of tag 86, sends extended APDUs, and asks for
// random bytes, as it would with a real TCOS 3.0 card.

// recorder hosts a card and keeps the commands that reach it, to check what
// OpenSC sent on the wire.
type recorder struct {
	card *simcard.Card
	mu   sync.Mutex
	cmds [][]byte
}

func (r *recorder) ATR() []byte { return r.card.ATR() }
func (r *recorder) Reset()      { r.card.Reset() }
func (r *recorder) Process(cmd []byte) []byte {
	r.mu.Lock()
	r.cmds = append(r.cmds, bytes.Clone(cmd))
	r.mu.Unlock()
	return r.card.Process(cmd)
}

// sent reports whether a command starting with prefix reached the card.
func (r *recorder) sent(prefix []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.cmds {
		if bytes.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

// dump lists the READ BINARY commands that reached the card.
func (r *recorder) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, c := range r.cmds {
		if len(c) > 1 && c[1] == tcos.INSReadBinary {
			fmt.Fprintf(&b, "% X\n", c)
		}
	}
	return b.String()
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", ":", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// process sends one APDU straight to the card (setting it up before it is
// served).
func process(t *testing.T, c *simcard.Card, apdu string, wantSW uint16) []byte {
	t.Helper()
	resp := c.Process(mustHex(t, apdu))
	n := len(resp)
	if sw := uint16(resp[n-2])<<8 | uint16(resp[n-1]); sw != wantSW {
		t.Fatalf("%s: %04X, want %04X", apdu, sw, wantSW)
	}
	return resp[:n-2]
}

// openSCConf lets OpenSC send extended APDUs through the vpcd reader:
// OpenSC takes a reader's APDU limits from its PC/SC part 10 properties,
// which vpcd does not offer, and falls back to short ones.
const openSCConf = `app default {
	reader_driver pcsc {
		max_send_size = 65535;
		max_recv_size = 65536;
	}
}
`

// openSC runs one of OpenSC's tools on the vpcd reader.
func openSC(t *testing.T, stdin string, tool string, args ...string) (stdout, stderr string) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is not installed (Debian: apt-get install opensc, listed in .ci/debian-packages)", tool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-r", readerName}, args...)...)
	conf := filepath.Join(t.TempDir(), "opensc.conf")
	if err := os.WriteFile(conf, []byte(openSCConf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "OPENSC_CONF="+conf)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstdout:\n%s\nstderr:\n%s", tool, args, err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// apduReply is one "Received (SW1=0x.., SW2=0x..)" of opensc-tool -s and its
// data.
type apduReply struct {
	sw   uint16
	data []byte
}

var (
	receivedRE = regexp.MustCompile(`^Received \(SW1=0x([0-9A-Fa-f]{2}), SW2=0x([0-9A-Fa-f]{2})\)`)
	dumpRE     = regexp.MustCompile(`^(?:[0-9A-F]{8}: )?((?:[0-9A-F]{2} )+)`)
)

// replies parses opensc-tool's answers to -s, in order.
func replies(out string) []apduReply {
	var got []apduReply
	for _, line := range strings.Split(out, "\n") {
		if m := receivedRE.FindStringSubmatch(line); m != nil {
			b, _ := hex.DecodeString(m[1] + m[2])
			got = append(got, apduReply{sw: uint16(b[0])<<8 | uint16(b[1])})
			continue
		}
		if m := dumpRE.FindStringSubmatch(line); m != nil && len(got) > 0 && !strings.HasPrefix(line, "Sending") {
			b, _ := hex.DecodeString(strings.ReplaceAll(m[1], " ", ""))
			got[len(got)-1].data = append(got[len(got)-1].data, b...)
		}
	}
	return got
}

// explorerSections splits opensc-explorer's output by its prompts: the
// output of each command of the script, keyed by the command.
func explorerSections(out string) map[string]string {
	sections := map[string]string{}
	cur := ""
	prompt := regexp.MustCompile(`^OpenSC \[[0-9A-F/]+\]> ?(.*)$`)
	for _, line := range strings.Split(out, "\n") {
		if m := prompt.FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		if cur != "" {
			sections[cur] += strings.Join(strings.Fields(line), " ") + "\n"
		}
	}
	return sections
}

// hexDump is the bytes of util_hex_dump_asc's lines ("00000000: 5A 0A …").
func hexDump(s string) []byte {
	var b []byte
	for _, line := range strings.Split(s, "\n") {
		if len(line) > 10 && line[8] == ':' {
			for _, f := range strings.Fields(line[10:]) {
				x, err := hex.DecodeString(f)
				if err != nil || len(x) != 1 {
					break // the ASCII column
				}
				b = append(b, x...)
			}
		}
	}
	return b
}

func TestOpenSCTools(t *testing.T) {
	sn := tcos.Serial{0x0C, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x15}
	card := simcard.New(sn)
	// A key pair in DF 4C00 makes EF 4C01 longer than one short response,
	// so reading it takes an extended Le.
	process(t, card, "00 A4 08 0C 02 4C 00", 0x9000)
	process(t, card, "00 20 00 81 06 31 32 33 34 35 36", 0x9000)
	process(t, card, "00 46 00 00 02 08 00", 0x9000)
	process(t, card, "00 A4 09 0C 02 4C 01", 0x9000)
	pub := process(t, card, "00 B0 00 00 00 00 00", 0x6282)
	if len(pub) <= 256 {
		t.Fatalf("EF 4C01 of %d bytes", len(pub))
	}
	card.Reset()
	rec := &recorder{card: card}
	r := openReader(t)
	in := waitIn(t, r, rec)
	// The next test needs the reader empty, as pcscd sees it.
	defer waitOut(t, r, in)
	gdo := append([]byte{0x5A, 0x0A}, sn[:]...)

	t.Run("opensc-tool", func(t *testing.T) {
		out, _ := openSC(t, "", "opensc-tool", "--name", "--atr")
		if !strings.Contains(out, "\nTCOS\n") || !strings.Contains(out, "3b:bf:96:00:81:31:fe:5d:00:64:04:11:03:01:31:c0:73:f7:01:d0:00:90:00:7d") {
			t.Fatalf("opensc-tool --name --atr:\n%s", out)
		}
		apdus := []struct {
			apdu string
			sw   uint16
			data []byte // nil: not checked
		}{
			{"00:A4:04:0C:0B:F0:48:53:4D:2D:42:41:43:4B:55:50", 0x9000, []byte{}}, // DF 4B00 by name
			{"00:A4:04:0C:05:F0:48:53:4D:2E", 0x6A82, []byte{}},                   // an absent name
			{"00:A4:04:0C:07:D2:76:00:00:03:01:02", 0x6A82, []byte{}},             // NetKey's name: absent too
			{"00:A4:04:04:05:F0:48:53:4D:2D:00", 0x9000, nil},                     // partial name, FCP
			{"00:A4:04:0E:05:F0:48:53:4D:2D", 0x9000, []byte{}},                   // next occurrence: DF 4C00
			{"00:A4:00:0C", 0x9000, []byte{}},
			{"00:B0:82:00:00:00:0C", 0x9000, gdo}, // extended Le
			{"00:B0:82:00:00:00:00", 0x6282, gdo}, // extended Le 00 00: all there is
			{"00:84:00:00:08", 0x9000, nil},
			{"00:84:00:00:10", 0x9000, nil}, // 6C08: opensc-tool resends with Le 08
		}
		var args []string
		for _, a := range apdus {
			args = append(args, "-s", a.apdu)
		}
		out, _ = openSC(t, "", "opensc-tool", args...)
		got := replies(out)
		if len(got) != len(apdus) {
			t.Fatalf("%d replies to %d APDUs:\n%s", len(got), len(apdus), out)
		}
		for i, a := range apdus {
			if got[i].sw != a.sw || (a.data != nil && !bytes.Equal(got[i].data, a.data)) {
				t.Errorf("%s: %04X % X, want %04X % X", a.apdu, got[i].sw, got[i].data, a.sw, a.data)
			}
		}
		if fcp := got[3].data; len(fcp) < 9 || fcp[0] != 0x62 || !bytes.Equal(fcp[5:9], []byte{0x83, 0x02, 0x4B, 0x00}) {
			t.Errorf("FCP of the partial name: % X, want DF 4B00's", fcp)
		}
		if a, b := got[8].data, got[9].data; len(a) != 8 || len(b) != 8 || bytes.Equal(a, b) {
			t.Errorf("GET CHALLENGE: % X and % X, want 8 random bytes each", a, b)
		}
		if !rec.sent(mustHex(t, "00 84 00 00 10")) || !rec.sent(mustHex(t, "00 84 00 00 08")) {
			t.Error("GET CHALLENGE did not reach the card as sent")
		}
		if !rec.sent(mustHex(t, "00 B0 82 00 00 00 0C")) {
			t.Error("the extended READ BINARY did not reach the card as sent")
		}
	})

	t.Run("opensc-explorer", func(t *testing.T) {
		script := strings.Join([]string{
			"info", "info 2F02", "cat 2F02",
			"cd 4B00", "info 4B01", "cat 4B01",
			"verify CHV129 31:32:33:34:35:36", "cat 4B01 ",
			"cd ..", "cd 4C00", "info", "info 4C01", "cat 4C01",
			"random 8", "random 16",
		}, "\n") + "\n"
		out, errOut := openSC(t, script, "opensc-explorer")
		sec := explorerSections(out)
		expect := func(cmd string, lines ...string) {
			t.Helper()
			for _, l := range lines {
				if !strings.Contains(sec[cmd], l+"\n") {
					t.Errorf("%q: no line %q in:\n%s", cmd, l, sec[cmd])
				}
			}
		}
		// The FCP of the MF: security attributes (86) and life cycle (8A).
		expect("info", "Dedicated File ID 3F00", "ACL for SELECT: NONE", "ACL for LIST FILES: NONE",
			"Proprietary attributes: 01", "Security attributes: A4 00 00 00 FF FF", "Life cycle: Operational, activated")
		expect("info 2F02", "Working Elementary File ID 2F02, SFI 10", "File size: 12 bytes",
			"ACL for READ: NONE", "ACL for WRITE: N/A", "Security attributes: B0 00 00 00 FF FF",
			"Life cycle: Operational, activated")
		if got := hexDump(sec["cat 2F02"]); !bytes.Equal(got, gdo) {
			t.Errorf("cat 2F02: % X, want % X", got, gdo)
		}
		// The share file: the card's rule, PIN 81 for read and update, as
		// card-tcos.c shows it; and enforced.
		expect("info 4B01", "Working Elementary File ID 4B01", "File size: 255 bytes", "EF structure: Transparent",
			"ACL for READ: CHV129 TERM", "ACL for WRITE: CHV129 TERM", "Proprietary attributes: 01 00",
			"Security attributes: B0 81 FF FF FF FF D6 81 FF FF FF FF", "Life cycle: Operational, activated")
		if !strings.Contains(errOut, "Read failed") || len(hexDump(sec["cat 4B01"])) != 0 {
			t.Errorf("the share file was read without the PIN:\n%s\nstderr:\n%s", sec["cat 4B01"], errOut)
		}
		expect("verify CHV129 31:32:33:34:35:36", "Code correct.")
		if got := hexDump(sec["cat 4B01 "]); !bytes.Equal(got, make([]byte, tcos.ShareEFSize)) {
			t.Errorf("cat 4B01 after the PIN: %d bytes % X", len(got), got)
		}
		// DF 4C00 by its FCP, with its DF name (84).
		expect("info", "Dedicated File ID 4C00", `DF name: \xF0HSM-PKCS11`) // the second "info"
		expect("info 4C01", fmt.Sprintf("File size: %d bytes", len(pub)), "ACL for READ: NONE")
		// EF 4C01 in one extended READ BINARY, Le = its size from the FCP.
		if got := hexDump(sec["cat 4C01"]); !bytes.Equal(got, pub) {
			t.Errorf("cat 4C01: %d bytes, want the %d of the public key", len(got), len(pub))
		}
		if want := []byte{0x00, 0xB0, 0x00, 0x00, 0x00, byte(len(pub) >> 8), byte(len(pub))}; !rec.sent(want) {
			t.Errorf("OpenSC did not read EF 4C01 with the extended APDU % X; it sent:\n%s", want, rec.dump())
		}
		// GET CHALLENGE: 8 bytes; 16 in two rounds after 6C08.
		r8, r16 := hexDump(sec["random 8"]), hexDump(sec["random 16"])
		if len(r8) != 8 || len(r16) != 16 || bytes.Equal(r16[:8], r16[8:]) {
			t.Errorf("random: % X and % X", r8, r16)
		}
		if !rec.sent(mustHex(t, "00 84 00 00 08")) {
			t.Error("no GET CHALLENGE reached the card")
		}
	})
}
