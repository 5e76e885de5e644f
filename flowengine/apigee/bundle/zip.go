package bundle

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"strings"
)

// OpenZip opens a bundle zip and returns its contents as a file system. Every
// entry is checked first: an entry whose name is absolute, contains a
// backslash or a ".." element (it would escape the bundle), or that is a
// symlink, makes the whole zip unusable. Nothing is extracted to disk.
// The caller closes the returned closer.
func OpenZip(file string) (fs.FS, func() error, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, nil, fmt.Errorf("open bundle zip: %w", err)
	}
	for _, f := range zr.File {
		if err := checkZipEntry(f); err != nil {
			zr.Close()
			return nil, nil, err
		}
	}
	return zr, zr.Close, nil
}

func checkZipEntry(f *zip.File) error {
	name := f.Name
	if strings.Contains(name, `\`) || strings.HasPrefix(name, "/") {
		return fmt.Errorf("zip entry %q: not a relative slash-separated path", name)
	}
	for _, el := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if el == ".." {
			return fmt.Errorf("zip entry %q escapes the bundle", name)
		}
	}
	if f.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("zip entry %q is a symlink", name)
	}
	return nil
}
