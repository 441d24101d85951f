// Package testscripts holds the roomchat conformance scripts. Each
// *.txtar file is a testscript script using the commands of package
// conformance; its header names the extensions it needs and the PROTOCOL.md
// requirements it checks. FS exposes them to the chatconform command and to
// tests, so that the suite works without the source tree.
package testscripts

import "embed"

// FS holds every script, at its top level.
//
//go:embed *.txtar
var FS embed.FS
