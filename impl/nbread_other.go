//go:build !unix

package impl

// rawReader is not used: without a raw connection (rawConnOf) the loop
// never reads on behalf of a reader (loop.fillNow).
type rawReader struct{ c *client }

func newRawReader() *rawReader { return new(rawReader) }

// readNow is not called when c.raw is nil.
func (r *rawReader) readNow([]byte) (int, error) {
	panic("impl: readNow without a raw connection")
}
