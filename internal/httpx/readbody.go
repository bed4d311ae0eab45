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
	if declared > 0 && declared <= maxPresized {
		// The declared bytes and one more, for the probe of the end, in one
		// allocation (bytes.Buffer.ReadFrom would make room for 512 more).
		buf.Grow(int(declared) + 1)
		for buf.Len() < int(declared)+1 {
			room := buf.AvailableBuffer()[:int(declared)+1-buf.Len()]
			n, err := r.Read(room)
			buf.Write(room[:n]) // room is buf's own spare capacity: no copy
			if err == io.EOF {
				return nil // as io.ReadAll: the end, even before declared
			}
			if err != nil {
				return err // a truncated request body says so itself
			}
		}
		// More than declared (a reader that does not enforce it): the rest
		// the usual way.
	}
	_, err := buf.ReadFrom(r)
	return err
}
