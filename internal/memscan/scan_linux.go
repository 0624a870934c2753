package memscan

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/hsmcards/hsmcards/secmem"
)

// chunk is how much memory Scan reads at a time.
const chunk = 1 << 20

// region is one mapping of /proc/self/maps.
type region struct {
	start, end uintptr
	line       string
}

// anonymous mappings: no file behind them. Named kernel areas other than the
// heap and the stack ([vvar], [vdso], [vsyscall]) are not ours and partly
// unreadable.
func anonymous(inode, path string) bool {
	if inode != "0" {
		return false
	}
	return path == "" || path == "[heap]" || strings.HasPrefix(path, "[stack") || strings.HasPrefix(path, "[anon:")
}

func regions() ([]region, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []region
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fs := strings.Fields(line)
		if len(fs) < 5 || !strings.HasPrefix(fs[1], "r") {
			continue
		}
		path := ""
		if len(fs) > 5 {
			path = strings.Join(fs[5:], " ")
		}
		if !anonymous(fs[4], path) {
			continue
		}
		lo, hi, ok := strings.Cut(fs[0], "-")
		if !ok {
			continue
		}
		s, err1 := strconv.ParseUint(lo, 16, 64)
		e, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, region{uintptr(s), uintptr(e), line})
	}
	return out, sc.Err()
}

// Scan reads every readable anonymous mapping of the process and returns
// where the needles are found.
func Scan(needles ...Needle) ([]Hit, error) {
	if !secmem.AsyncPreemptionOff() {
		return nil, errPreemption
	}
	maxSpan := 1
	for _, n := range needles {
		maxSpan = max(maxSpan, n.span())
	}
	buf, err := secmem.NewBuffer(chunk + maxSpan)
	if err != nil {
		return nil, err
	}
	defer buf.Destroy()
	own := buf.Bytes()
	ownStart, ownEnd := addrOf(own), addrOf(own)+uintptr(len(own))

	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	rs, err := regions()
	if err != nil {
		return nil, err
	}
	var hits []Hit
	for _, r := range rs {
		// The read buffer itself holds whatever was read last: leave it out.
		for _, part := range without(r.start, r.end, ownStart, ownEnd) {
			hits = scanRange(hits, mem, own, part[0], part[1], maxSpan, needles, r)
		}
	}
	return hits, nil
}

// without returns [start, end) minus [cut0, cut1), as up to two ranges.
func without(start, end, cut0, cut1 uintptr) [][2]uintptr {
	if cut1 <= start || cut0 >= end {
		return [][2]uintptr{{start, end}}
	}
	var out [][2]uintptr
	if cut0 > start {
		out = append(out, [2]uintptr{start, cut0})
	}
	if cut1 < end {
		out = append(out, [2]uintptr{cut1, end})
	}
	return out
}

// scanRange reads [start, end) chunk by chunk into own, each chunk with an
// overlap of maxSpan-1 bytes so that a match across two chunks is seen once.
func scanRange(hits []Hit, mem *os.File, own []byte, start, end uintptr, maxSpan int, needles []Needle, r region) []Hit {
	for at := start; at < end; at += chunk {
		stop := min(at+chunk+uintptr(maxSpan-1), end)
		b := own[:stop-at]
		n, _ := mem.ReadAt(b, int64(at))
		b = b[:n] // an unreadable page ends the chunk early
		for _, nd := range needles {
			hits = appendHits(hits, nd, b, at, r)
		}
		secmem.Wipe(b)
	}
	return hits
}

func appendHits(hits []Hit, nd Needle, b []byte, at uintptr, r region) []Hit {
	span := nd.span()
	first := nd.masked[0] ^ nd.mask[0]
	for i := 0; i+span <= len(b); {
		j := bytes.IndexByte(b[i:len(b)-span+1], first)
		if j < 0 {
			break
		}
		i += j
		if i < chunk && nd.at(b, i) {
			hits = append(hits, Hit{Needle: nd.Name, Addr: at + uintptr(i), Mapping: r.line})
		}
		i++
	}
	return hits
}

// errPreemption: a scan with signal-based preemption on would find the
// register frames a preempted goroutine leaves, by chance, and fail at
// random; the program runs without it, and so must its scans.
var errPreemption = errors.New("memscan: signal-based preemption is on; call secmem.WithoutAsyncPreemption in the test's TestMain, as main does")
