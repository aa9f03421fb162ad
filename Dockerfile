# pdediff: JupyterLab + Go 1.26 + GoNB + this repository, with the notebooks ready to run.
#
#   docker build -t pdediff .
#   docker run -it --rm -p 8888:8888 pdediff                 # open the printed URL, then notebooks/
#   docker run -it --rm -e GOMLX_BACKEND=xla:cpu -p 8888:8888 pdediff   # XLA CPU backend (PJRT plugin baked in)
#   docker run --rm --entrypoint pdediff pdediff version      # the CLI
#
# Layout follows GoNB's own Dockerfile (github.com/janpfeifer/gonb, v0.11.5: Dockerfile, docs/docker.md):
# Jupyter's base-notebook image, Go from the go.dev tarball, GoNB installed as the notebook user.
# Building needs internet (Go modules, the Go tarball, the PJRT plugin from GitHub). Not built in this
# repository's CI (no Docker daemon there); `make test` covers the same install and notebook run on Debian.

# JupyterLab base image, as in GoNB's Dockerfile (ARG BASE_IMAGE / BASE_TAG there).
ARG BASE_IMAGE=quay.io/jupyter/base-notebook
# Pinned to a dated build (docker-stacks tags every build with its date); bump deliberately.
ARG BASE_TAG=2026-05-31
FROM ${BASE_IMAGE}:${BASE_TAG}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Tools GoNB's Dockerfile installs (git is needed below for the PJRT installer source).
USER root
# hadolint ignore=DL3008
RUN apt-get update --yes \
    && apt-get install --yes --no-install-recommends git wget ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/*

# Go from the official tarball (GoNB Dockerfile: wget go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz | tar -xz).
# go.mod needs go >= 1.26.8.
ARG GO_VERSION=1.26.8
ENV GOROOT=/usr/local/go
ENV GOPATH=/home/${NB_USER}/go
ENV PATH=${GOPATH}/bin:${GOROOT}/bin:${PATH}
# Mandatory for speed in this project (GoMLX pure-Go backend and go-highway: see STACK.md / Makefile).
ENV GOEXPERIMENT=simd
ENV GOMLX_BACKEND=go
WORKDIR /usr/local
RUN wget --quiet --output-document=- "https://go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz" | tar -xz \
    && go version

# PJRT CPU plugin for GOMLX_BACKEND=xla:cpu, installed the way go-xla's own CI does it at the version this
# repository uses (github.com/gomlx/go-xla v0.4.5, .github/workflows/linux_amd64_tests.yaml: build
# cmd/pjrt_installer, then `pjrt_installer -plugin cpu -version "${CPU_VERSION}" -path /usr/local/lib/go-xla`;
# CPU_VERSION is DefaultCPUVersion in internal/utils/utils.go, v0.114.0 for go-xla v0.4.5).
# /usr/local/lib/go-xla is on go-xla's plugin search path (go-xla README, "Environment Variables").
ARG GO_XLA_VERSION=v0.4.5
ARG PJRT_CPU_VERSION=v0.114.0
RUN git clone --quiet --depth 1 --branch "${GO_XLA_VERSION}" https://github.com/gomlx/go-xla.git /tmp/go-xla \
    && cd /tmp/go-xla/cmd/pjrt_installer && GOBIN=/usr/local/bin go install . \
    && pjrt_installer -plugin cpu -version "${PJRT_CPU_VERSION}" -path /usr/local/lib/go-xla \
    && rm -rf /tmp/go-xla "${GOPATH}" /root/.cache/go-build

# The repository, owned by the notebook user.
COPY --chown=${NB_UID}:${NB_GID} . /home/${NB_USER}/pdediff
USER ${NB_USER}
WORKDIR /home/${NB_USER}/pdediff

# GoNB v0.11.5 + goimports v0.44.0 (tools module kernel/tools), gopls v0.21.1, and the kernel registration with
# GOEXPERIMENT=simd and GOMLX_BACKEND in kernel.json. Jupyter comes from the base image, so no apt packages.
RUN PDEDIFF_KERNEL_NO_APT=1 bash kernel/install.sh

# The CLI, with the XLA backend compiled in (-tags xla, see lib/backend/xla.go); the default backend stays "go".
USER root
# go.mod lists github.com/gomlx/go-xla v0.4.5, so `go build -tags xla ./cmd/pdediff` was run here as written.
RUN GOFLAGS=-buildvcs=false go build -tags xla -o /usr/local/bin/pdediff ./cmd/pdediff \
    && pdediff version

# Warm the module and build caches the notebooks use, by executing them once headless (quick preset).
USER ${NB_USER}
RUN bash kernel/run-notebooks.sh

WORKDIR /home/${NB_USER}/pdediff
# The base image's default command starts JupyterLab (start-notebook.py) in the working directory.
