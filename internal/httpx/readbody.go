package httpx

import (
	"bytes"
	"io"
)

// maxPresized bounds the buffer a declared Content-Length makes ReadBody
// allocate before any byte arrives: a sender may declare 1 MiB and send
// nothing, so beyond this the buffer grows only with the bytes read.
const maxPresized = 64 << 10

// ReadBody reads r to its end like io.ReadAll, into a buffer sized from
// declared, the Content-Length (-1 when unknown), so a body of the usual few
// kilobytes is read into one allocation instead of io.ReadAll's five or six
// growing copies (issue 16). It does not limit r: wrap it in
// http.MaxBytesReader or io.LimitReader first.
func ReadBody(r io.Reader, declared int64) ([]byte, error) {
	var buf bytes.Buffer
	err := ReadBodyInto(&buf, r, declared)
	return buf.Bytes(), err
}

// ReadBodyInto is ReadBody appending to buf, for a caller that reuses its
// buffers.
func ReadBodyInto(buf *bytes.Buffer, r io.Reader, declared int64) error {
	if declared >= 0 && declared <= maxPresized {
		// bytes.MinRead more than declared, for ReadFrom's probe of the
		// end, so a truthful sender's body never makes it grow.
		buf.Grow(int(declared) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r)
	return err
}
