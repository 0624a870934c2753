package hsm

import "testing"

func TestPINFromEnv(t *testing.T) {
	t.Setenv(PKCS11PINEnv, "")
	if pin, ok := PINFromEnv(); ok || pin != nil {
		t.Errorf("empty %s gave %v", PKCS11PINEnv, ok)
	}
	t.Setenv(PKCS11PINEnv, "4711-0815")
	pin, ok := PINFromEnv()
	if !ok || string(pin) != "4711-0815" {
		t.Errorf("PINFromEnv = %v", ok)
	}
	clear(pin)
	if again, _ := PINFromEnv(); string(again) != "4711-0815" {
		t.Error("wiping the returned PIN changed the next one: not a copy")
	}
}
