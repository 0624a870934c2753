//go:build cgo && unix

package pkcs11

// The three PKCS#11 calls that carry a PIN or a key's value (C_Login,
// C_InitPIN, C_CreateObject) go through the module's own function list, not
// miekg/pkcs11: miekg copies their arguments into C memory and frees it
// unwiped, so a PIN or the Backup Key would stay in the C heap until that
// memory is reused. Here the C copies are ours, and wiped before they are
// freed. The function list's layout is PKCS#11's (docs/pkcs11.md, "Secrets
// through the module").

/*
#cgo linux LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long ck_ulong;

typedef struct {
	ck_ulong type;
	void *value;
	ck_ulong len;
} ck_attribute;

typedef struct {
	unsigned char major, minor;
} ck_version;

// The start of CK_FUNCTION_LIST: a CK_VERSION, then one function pointer per
// function in the order of PKCS#11 v2.40's pkcs11f.h (docs/pkcs11.md).
enum {
	fn_init_pin = 10,
	fn_login = 18,
	fn_create_object = 20,
	fn_count = 21,
};

typedef struct {
	ck_version version;
	void *fn[fn_count];
} ck_function_list;

typedef ck_ulong (*get_function_list_fn)(ck_function_list **list);
typedef ck_ulong (*init_pin_fn)(ck_ulong session, unsigned char *pin, ck_ulong len);
typedef ck_ulong (*login_fn)(ck_ulong session, ck_ulong user, unsigned char *pin, ck_ulong len);
typedef ck_ulong (*create_object_fn)(ck_ulong session, ck_attribute *tmpl, ck_ulong count, ck_ulong *object);

// open_function_list finds the function list of the module at path, which
// must already be loaded (RTLD_NOLOAD): it is the instance miekg/pkcs11
// initialised. *handle is for close_module.
static ck_function_list *open_function_list(const char *path, void **handle) {
	ck_function_list *list = NULL;
	*handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	if (*handle == NULL) {
		return NULL;
	}
	get_function_list_fn get = (get_function_list_fn)dlsym(*handle, "C_GetFunctionList");
	if (get == NULL || get(&list) != 0) {
		dlclose(*handle);
		*handle = NULL;
		return NULL;
	}
	return list;
}

static void close_module(void *handle) {
	if (handle != NULL) {
		dlclose(handle);
	}
}

static void *exported(void *handle, const char *name) { return dlsym(handle, name); }

// loaded_path is the file the module was loaded from.
static const char *loaded_path(ck_function_list *list) {
	Dl_info info;
	if (dladdr(list->fn[0], &info) == 0) {
		return NULL;
	}
	return info.dli_fname;
}

static void *function_at(ck_function_list *list, int i) { return list->fn[i]; }

// wipe clears n bytes at p in a way the compiler keeps.
static void wipe(void *p, size_t n) {
	volatile unsigned char *q = p;
	while (n--) {
		*q++ = 0;
	}
}

static ck_ulong call_init_pin(ck_function_list *list, ck_ulong session, unsigned char *pin, ck_ulong len) {
	return ((init_pin_fn)list->fn[fn_init_pin])(session, pin, len);
}

static ck_ulong call_login(ck_function_list *list, ck_ulong session, ck_ulong user, unsigned char *pin, ck_ulong len) {
	return ((login_fn)list->fn[fn_login])(session, user, pin, len);
}

static ck_ulong call_create_object(ck_function_list *list, ck_ulong session, ck_attribute *tmpl, ck_ulong count, ck_ulong *object) {
	return ((create_object_fn)list->fn[fn_create_object])(session, tmpl, count, object);
}
*/
import "C"

import (
	"errors"
	"unsafe"

	p11 "github.com/miekg/pkcs11"
)

// secretCalls makes the calls that carry secrets, on one loaded module.
type secretCalls struct {
	handle unsafe.Pointer
	list   *C.ck_function_list
}

// openSecretCalls finds the function list of the module at path, which
// miekg/pkcs11 has loaded already.
func openSecretCalls(path string) (*secretCalls, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var handle unsafe.Pointer
	list := C.open_function_list(cpath, &handle)
	if list == nil {
		return nil, errors.New("C_GetFunctionList of the loaded module failed")
	}
	return &secretCalls{handle: handle, list: list}, nil
}

// close drops our reference to the module; miekg/pkcs11 holds its own.
func (c *secretCalls) close() {
	C.close_module(c.handle)
	c.handle, c.list = nil, nil
}

// file is the path of the file the module was loaded from ("" if the
// system does not say), for the host's load lock (loadlock.go).
func (c *secretCalls) file() string {
	p := C.loaded_path(c.list)
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// cSecret is a C copy of a secret, wiped when freed.
type cSecret struct {
	p unsafe.Pointer
	n C.size_t
}

func newCSecret(b []byte) cSecret {
	n := C.size_t(len(b))
	p := C.calloc(max(n, 1), 1)
	if n > 0 {
		C.memcpy(p, unsafe.Pointer(&b[0]), n)
	}
	return cSecret{p, n}
}

func (s cSecret) free() {
	C.wipe(s.p, s.n)
	C.free(s.p)
}

func rvError(rv C.ck_ulong) error {
	if rv == 0 {
		return nil
	}
	return p11.Error(rv)
}

// login is C_Login(session, user, pin).
func (c *secretCalls) login(session p11.SessionHandle, user uint, pin []byte) error {
	cp := newCSecret(pin)
	defer cp.free()
	return rvError(C.call_login(c.list, C.ck_ulong(session), C.ck_ulong(user), (*C.uchar)(cp.p), C.ck_ulong(cp.n)))
}

// initPIN is C_InitPIN(session, pin).
func (c *secretCalls) initPIN(session p11.SessionHandle, pin []byte) error {
	cp := newCSecret(pin)
	defer cp.free()
	return rvError(C.call_init_pin(c.list, C.ck_ulong(session), (*C.uchar)(cp.p), C.ck_ulong(cp.n)))
}

// attr is one attribute of a template for createObject: its value in the
// token's encoding (see the attr* helpers), or, for CKA_UNWRAP_TEMPLATE and
// its kin, an array of attributes.
type attr struct {
	typ    uint
	val    []byte
	nested []attr
}

// cTemplate is a template in C memory; every value is wiped when freed,
// since CKA_VALUE is a key's.
type cTemplate struct {
	arr    *C.ck_attribute
	count  int
	values []cSecret
}

func newCTemplate(attrs []attr) *cTemplate {
	t := &cTemplate{count: len(attrs)}
	t.arr = t.build(attrs)
	return t
}

func (t *cTemplate) build(attrs []attr) *C.ck_attribute {
	size := C.size_t(unsafe.Sizeof(C.ck_attribute{}))
	mem := C.calloc(C.size_t(max(len(attrs), 1)), size)
	t.values = append(t.values, cSecret{mem, size * C.size_t(len(attrs))})
	arr := unsafe.Slice((*C.ck_attribute)(mem), len(attrs))
	for i, a := range attrs {
		arr[i]._type = C.ck_ulong(a.typ)
		if a.nested != nil {
			arr[i].value = unsafe.Pointer(t.build(a.nested))
			arr[i].len = C.ck_ulong(uintptr(len(a.nested)) * uintptr(size))
			continue
		}
		v := newCSecret(a.val)
		t.values = append(t.values, v)
		arr[i].value, arr[i].len = v.p, C.ck_ulong(len(a.val))
	}
	return (*C.ck_attribute)(mem)
}

func (t *cTemplate) free() {
	for _, v := range t.values {
		v.free()
	}
}

// createObject is C_CreateObject(session, attrs).
func (c *secretCalls) createObject(session p11.SessionHandle, attrs []attr) (p11.ObjectHandle, error) {
	t := newCTemplate(attrs)
	defer t.free()
	var h C.ck_ulong
	if err := rvError(C.call_create_object(c.list, C.ck_ulong(session), t.arr, C.ck_ulong(t.count), &h)); err != nil {
		return 0, err
	}
	return p11.ObjectHandle(h), nil
}

// functionMatchesExport reports whether the function list's entry i is the
// module's exported symbol name, for the test of the layout.
func (c *secretCalls) functionMatchesExport(i int, name string) bool {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	sym := C.exported(c.handle, cname)
	return sym != nil && sym == C.function_at(c.list, C.int(i))
}
