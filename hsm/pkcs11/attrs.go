//go:build cgo && unix

package pkcs11

// Attribute values in the encoding a module reads and writes: CK_BBOOL is one
// byte, CK_ULONG (and arrays of it, such as CKA_ALLOWED_MECHANISMS) is the
// platform's unsigned long in native byte order (PKCS#11 v2.40 base, "Data
// types" and "Attributes"; docs/pkcs11.md).

import (
	"fmt"
	"unsafe"
)

// ulongSize is sizeof(CK_ULONG). miekg/pkcs11 assumes it equals Go's uint,
// as on every LP64 Unix.
const ulongSize = int(unsafe.Sizeof(uint(0)))

func encodeBool(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

func encodeUlongs(vs ...uint) []byte {
	b := make([]byte, 0, len(vs)*ulongSize)
	for _, v := range vs {
		b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&v)), ulongSize)...)
	}
	return b
}

func decodeBool(v []byte) bool { return len(v) == 1 && v[0] != 0 }

// decodeUlongs reads an array of CK_ULONG.
func decodeUlongs(v []byte) ([]uint, error) {
	if len(v)%ulongSize != 0 {
		return nil, fmt.Errorf("pkcs11: a CK_ULONG array of %d bytes", len(v))
	}
	out := make([]uint, len(v)/ulongSize)
	for i := range out {
		out[i] = *(*uint)(unsafe.Pointer(&v[i*ulongSize]))
	}
	return out, nil
}

// decodeUlong reads one CK_ULONG.
func decodeUlong(v []byte) (uint, error) {
	if len(v) != ulongSize {
		return 0, fmt.Errorf("pkcs11: a CK_ULONG of %d bytes", len(v))
	}
	u, err := decodeUlongs(v)
	return u[0], err
}
