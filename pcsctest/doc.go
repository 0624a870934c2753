// Package pcsctest holds the integration tests of the PC/SC path against a
// real pcscd: ebfe/scard → pcscd → vpcd driver → vpcd bridge → simulated TCOS
// card. They build only with the pcsc tag, run as root (pcscd's socket is
// /run/pcscd), and start and stop their own `pcscd -f -c DIR` with a copy of
// /etc/reader.conf.d/vpcd:
//
//	sudo go test -tags pcsc ./pcsctest/
//
// Debian packages: pcscd, libpcsclite-dev, vsmartcard-vpcd, pkg-config.
package pcsctest
