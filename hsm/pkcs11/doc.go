// Package pkcs11 is hsm's PKCS#11 backend: the Backup Key as an object in a
// token (HSM), and a token whose user PIN is kept wrapped to slot user cards
// (UserSlot). The PKCS#11 and SoftHSM2 facts it relies on, and the Backup
// Key's template and why, are in docs/pkcs11.md.
//
// Loading a module needs cgo; without it every entry point fails with an
// error matching hsm.ErrModule.
package pkcs11
