// Command spackmon-conformance checks a Spack Monitor server against PROTOCOL.md; run it
// with go run ./conformance --url http://host:port (see README.md).
package main

func main() {}
