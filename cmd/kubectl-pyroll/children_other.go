//go:build !linux

package main

// endChildren does nothing where there is no /proc to find them (a hung exec credential
// plugin may outlive the command there).
func endChildren() {}
