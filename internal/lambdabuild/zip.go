package lambdabuild

import (
	"archive/zip"
	"io"
	"time"
)

// zipEpoch is the fixed mtime of bootstrap: the DOS epoch, the earliest time
// a zip can hold, so the zip does not depend on when it was built.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteZip writes to w a deterministic zip holding one file, bootstrap, with
// the content of r, mode 0755 and a fixed modification time. The same input
// always gives the same bytes (for a given Go version).
func WriteZip(w io.Writer, bootstrap io.Reader) error {
	zw := zip.NewWriter(w)
	fh := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipEpoch}
	// The exec bit is what lets provided.al2023 run it; Pulumi's own zipping drops it.
	fh.SetMode(0o755)
	f, err := zw.CreateHeader(fh)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, bootstrap); err != nil {
		return err
	}
	return zw.Close()
}
