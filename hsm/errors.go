package hsm

import "errors"

// Errors of the HSM backends, for errors.Is. The errors returned carry more
// detail (module path, token label, the CKR_ code) but never a PIN or key.
var (
	// ErrModule means the PKCS#11 module could not be loaded or initialised.
	ErrModule = errors.New("pkcs11: cannot use the PKCS#11 module")
	// ErrTokenNotFound means no initialised token matched the selector.
	ErrTokenNotFound = errors.New("pkcs11: token not found")
	// ErrWrongPIN means the token rejected the user PIN (CKR_PIN_INCORRECT).
	ErrWrongPIN = errors.New("pkcs11: wrong token PIN")
	// ErrPINLocked means the token's user PIN is locked (CKR_PIN_LOCKED or
	// CKF_USER_PIN_LOCKED); its security officer must unlock it.
	ErrPINLocked = errors.New("pkcs11: the token's user PIN is locked")
	// ErrTemplateRefused means the token would not create the Backup Key
	// object as asked (CKR_TEMPLATE_INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID
	// and the like), or did not keep an attribute we asked for.
	ErrTemplateRefused = errors.New("pkcs11: the token refused the key template")
)

// PKCS11PINEnv names the environment variable that holds the token's user PIN
// for unattended runs; without it the wizard asks for the PIN, masked. Take
// it out with secmem.FromEnv, which leaves no copy in the environment.
const PKCS11PINEnv = "HSMCARDS_PKCS11_PIN"

// Error is a detailed error of an HSM backend that still matches the errors
// it carries (sentinels above, the module's CKR_ code) with errors.Is and
// errors.As: its text says more than any of them.
type Error struct {
	msg  string
	errs []error
}

// NewError returns an *Error with text msg that matches each of errs.
func NewError(msg string, errs ...error) *Error { return &Error{msg: msg, errs: errs} }

func (e *Error) Error() string { return e.msg }

// Unwrap returns the errors e matches.
func (e *Error) Unwrap() []error { return e.errs }
