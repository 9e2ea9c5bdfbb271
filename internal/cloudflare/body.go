package cloudflare

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Buffer sizes of the streaming encoder. readChunk is a multiple of 3 so
// that base64 padding can only occur at the end of a module.
const (
	readChunk   = 48 << 10
	writeBuffer = 32 << 10
)

// versionBody streams the JSON body of Create Version: the metadata fields,
// then each module as {"name","content_type","content_base64"} with the
// content base64-encoded while it is read. Nothing but fixed-size buffers is
// held in memory, and every attempt re-opens the modules.
type versionBody struct {
	// meta is the JSON object of every field except modules.
	meta    []byte
	modules []ModuleUpload
}

// open implements bodySource: a pipe fed by a goroutine. The goroutine ends
// when the body is written or when the transport closes the pipe's reader
// (which net/http always does).
func (b *versionBody) open(fail *failRecorder) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(b.write(pw, fail))
	}()
	return pr
}

// moduleError is a failure to read a module, as opposed to a failure to send it.
type moduleError struct {
	name string
	err  error
}

func (e *moduleError) Error() string {
	// The cause says what to do (bundle.ErrModuleChanged: nothing may rewrite
	// the build output while the action runs).
	return fmt.Sprintf("failed to read module %q while uploading it: %v", e.name, e.err)
}

func (e *moduleError) Unwrap() error { return e.err }

// write encodes the whole body to w.
func (b *versionBody) write(w io.Writer, fail *failRecorder) error {
	bw := bufio.NewWriterSize(w, writeBuffer)
	if len(b.modules) == 0 {
		if _, err := bw.Write(b.meta); err != nil {
			return err
		}
		return bw.Flush()
	}
	head := b.meta[:len(b.meta)-1] // without the closing brace
	bw.Write(head)
	if len(head) > 1 {
		bw.WriteByte(',')
	}
	bw.WriteString(`"modules":[`)
	in := make([]byte, readChunk)
	out := make([]byte, base64.StdEncoding.EncodedLen(readChunk))
	for i, m := range b.modules {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(`{"name":`)
		writeJSONString(bw, m.Name)
		bw.WriteString(`,"content_type":`)
		writeJSONString(bw, m.ContentType)
		bw.WriteString(`,"content_base64":"`)
		if err := writeModule(bw, m, in, out); err != nil {
			var me *moduleError
			if errors.As(err, &me) {
				fail.set(err)
			}
			return err
		}
		bw.WriteString(`"}`)
	}
	bw.WriteString("]}")
	// bufio.Writer keeps the first write error and returns it here.
	return bw.Flush()
}

// writeModule copies one module's content to bw as base64.
func writeModule(bw *bufio.Writer, m ModuleUpload, in, out []byte) error {
	rc, err := m.Open()
	if err != nil {
		return &moduleError{name: m.Name, err: err}
	}
	defer rc.Close()
	for {
		n, rerr := io.ReadFull(rc, in)
		if n > 0 {
			base64.StdEncoding.Encode(out, in[:n])
			if _, err := bw.Write(out[:base64.StdEncoding.EncodedLen(n)]); err != nil {
				return err
			}
		}
		switch rerr {
		case nil:
			continue
		case io.EOF, io.ErrUnexpectedEOF:
			return nil
		default:
			return &moduleError{name: m.Name, err: rerr}
		}
	}
}

// writeJSONString writes s as a JSON string.
func writeJSONString(bw *bufio.Writer, s string) {
	b, _ := json.Marshal(s) // marshalling a string cannot fail
	bw.Write(b)
}
