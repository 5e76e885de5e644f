package flat

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// errOutside is wrapped by readFile errors for files outside the project
// directory, also when a symbolic link leads out of it.
var errOutside = errors.New("outside the project directory")

// openRoot opens the project directory as the root every file read of the
// project goes through (os.Root: no "..", absolute path or symbolic link
// may leave it). The root is closed when the Project is collected.
func openRoot(dir string) (*os.Root, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open project directory: %w", err)
	}
	return root, nil
}

// readFile reads the file at path (absolute, as the compiler resolves
// references) through the project root.
func (p *Project) readFile(path string) ([]byte, error) {
	name, err := filepath.Rel(p.dir, path)
	if err != nil || !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%s: %w", p.rel(path), errOutside)
	}
	data, err := p.root.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && strings.Contains(err.Error(), "escapes") {
		return nil, fmt.Errorf("%s: %w", p.rel(path), errOutside)
	}
	return data, err
}

// fileCode is the diagnostic code of a readFile error.
func fileCode(err error) diag.Code {
	if errors.Is(err, errOutside) {
		return diag.OutsideProject
	}
	return diag.MissingFile
}
