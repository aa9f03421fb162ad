# pdediff build, test and figure targets. GOEXPERIMENT=simd is mandatory for speed
# (GoMLX pure-Go backend 5-8x, go-highway ~20x); every target sets it.
export GOEXPERIMENT := simd
export GOMLX_BACKEND ?= go
GO ?= go
BIN := bin/pdediff

.PHONY: all build test test-go test-notebooks notebooks figures bench bench-peer vet fmt kernel clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pdediff

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)

# The whole test suite: vet + gofmt, Go tests, then the notebooks executed headless.
test: vet test-go test-notebooks

test-go:
	$(GO) test -count=1 -timeout 20m ./...

# Installs Jupyter + GoNB if missing (kernel/install.sh is idempotent), then executes every notebook.
test-notebooks: kernel
	bash kernel/run-notebooks.sh

kernel:
	bash kernel/install.sh

# The main job on the embedded default backend (pure Go): every figure and the
# quick Table 2. Deterministic: a second run leaves the committed files as
# they are (wall times go to the ignored figures/**/timing.json).
figures: build
	$(BIN) figures --preset quick --out figures

# Re-executes the notebooks in place (quick preset), so the committed copies
# carry their outputs.
notebooks: kernel
	bash kernel/run-notebooks.sh --inplace

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./lib/...

# pdediff beside the PyTorch reference of bench/peer (training steps, forward
# passes, PF-ODE sampling), alternating, two repetitions. Optional: needs
# python3-torch, libopenblas0-pthread and python3-scipy; no test depends on it.
bench-peer:
	$(GO) run ./bench/peer -reps 2 -md bench-peer.md

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
