package kafkatest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mailevents/mailevents/internal/mailtest"
)

const brokerPkg = "github.com/mailevents/mailevents/internal/kafkatest/cmd/kfakebroker"

var build struct {
	once sync.Once
	bin  string
	err  error
	// missing is set when the toolchain itself is absent, which is reported
	// as a missing prerequisite rather than as a failure.
	missing bool
}

// brokerBinary builds cmd/kfakebroker once per test binary.
//
// It goes to the user's cache directory rather than a test's TempDir, which
// would vanish with the first test while later ones still need it. The
// build writes a temporary file and renames it into place, so test binaries
// of several packages building at once never run a half-written program,
// and Go's build cache makes every build after the first a quick link.
func brokerBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			if root := os.Getenv("GOROOT"); root != "" {
				gobin, err = filepath.Join(root, "bin", "go"), nil
			}
		}
		if err != nil {
			build.err, build.missing = err, true
			return
		}
		build.bin, build.err = buildBroker(gobin)
	})
	if build.missing {
		mailtest.Missing(t, build.err, "the go command, needed to build the test broker, is not on PATH", EnvSkip, "a Go toolchain")
	}
	if build.err != nil {
		t.Fatalf("kafkatest: %v", build.err)
	}
	return build.bin
}

func buildBroker(gobin string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "mailevents-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build broker: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "kfakebroker-*.tmp")
	if err != nil {
		return "", fmt.Errorf("build broker: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up a failed build
	cmd := exec.Command(gobin, "build", "-o", tmp.Name(), brokerPkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", brokerPkg, err, out)
	}
	bin := filepath.Join(dir, "kfakebroker")
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", fmt.Errorf("build broker: %w", err)
	}
	return bin, nil
}
