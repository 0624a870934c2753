package main

import (
	"errors"
	"time"
)

// flagDuration is a time.Duration flag that refuses zero and negative values.
type flagDuration time.Duration

func (f *flagDuration) String() string { return time.Duration(*f).String() }

func (f *flagDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d <= 0 {
		return errPositive
	}
	*f = flagDuration(d)
	return nil
}

func (f flagDuration) d() time.Duration { return time.Duration(f) }

var errPositive = errors.New("must be more than zero")
