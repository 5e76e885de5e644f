package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
)

// startGenProfile starts the load generator's CPU profile for one round
// against the server labelled label, into base.label.round, and returns
// the function that stops it and closes the file. With no base it does
// nothing. A Go process has one CPU profile at a time, and the rounds of
// the servers alternate, so each round gets a file of its own; go tool
// pprof merges the files of one server given together.
func startGenProfile(base, label string, round int) (stop func() error, err error) {
	if base == "" {
		return func() error { return nil }, nil
	}
	name := base + "." + label + "." + strconv.Itoa(round)
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("-gen-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		os.Remove(name)
		return nil, fmt.Errorf("-gen-cpuprofile %s: %w", name, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("-gen-cpuprofile %s: %w", name, err)
		}
		return nil
	}, nil
}
