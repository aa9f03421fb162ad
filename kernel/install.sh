#!/usr/bin/env bash
# Installs what the pdediff notebooks need, pinned, and registers the GoNB Jupyter kernel:
#   - Debian's Jupyter (notebook server, nbconvert CLI, nbclient, ipykernel)   [apt-get, only if missing]
#   - GoNB v0.11.5 and goimports v0.44.0 through the tools module kernel/tools [go install tool]
#   - gopls v0.21.1 on its own (it does not build inside the same tools module as goimports)
#   - `gonb --install`, then kernel.json is patched so the kernel always runs with GOEXPERIMENT=simd,
#     finds go/gonb/goimports/gopls on its PATH, and passes GOMLX_BACKEND through (default "go").
# Idempotent: a second run checks versions and the kernel.json, and exits in well under a second.
#
# Environment: PDEDIFF_KERNEL_FORCE=1 reinstalls everything; PDEDIFF_KERNEL_NO_APT=1 skips the Debian packages
# (Jupyter comes from elsewhere, e.g. the Dockerfile's JupyterLab image); JUPYTER_DATA_DIR is honoured (as by GoNB).
set -euo pipefail

export GOEXPERIMENT=simd
export DEBIAN_FRONTEND=noninteractive

GONB_VERSION=v0.11.5
GOIMPORTS_VERSION=v0.44.0
GOPLS_VERSION=v0.21.1
APT_PACKAGES=(jupyter-notebook python3-nbconvert python3-nbclient jupyter-client python3-ipykernel jupyter-nbconvert)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
force="${PDEDIFF_KERNEL_FORCE:-0}"

log() { printf 'kernel/install.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || {
	if [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:${PATH}"; else die "go not found on PATH nor at /usr/local/go/bin/go"; fi
}
{ read -r gobin; read -r gopath; read -r goroot; } < <(go env GOBIN GOPATH GOROOT)
[[ -n "${gobin}" ]] || gobin="${gopath%%:*}/bin"
goroot_bin="${goroot}/bin"
export PATH="${gobin}:${PATH}"

jupyter_data_dir="${JUPYTER_DATA_DIR:-${HOME}/.local/share/jupyter}"
kernel_json="${jupyter_data_dir}/kernels/gonb/kernel.json"

# ---------------------------------------------------------------- checks (the fast path)

missing_apt() {
	local p
	for p in "${APT_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q '^install ok installed$'; then
			printf '%s\n' "${p}"
		fi
	done
}

# binary_has MODULE_PATH VERSION BINARY: whether BINARY was built from MODULE_PATH at VERSION.
binary_has() {
	[[ -x "$3" ]] && go version -m "$3" 2>/dev/null | awk -v m="$1" -v v="$2" '$1=="mod" && $2==m && $3==v {f=1} END {exit !f}'
}

tools_ok() {
	binary_has github.com/janpfeifer/gonb "${GONB_VERSION}" "${gobin}/gonb" &&
		binary_has golang.org/x/tools "${GOIMPORTS_VERSION}" "${gobin}/goimports" &&
		binary_has golang.org/x/tools/gopls "${GOPLS_VERSION}" "${gobin}/gopls"
}

kernel_ok() {
	[[ -f "${kernel_json}" ]] && python3 - "${kernel_json}" "${gobin}" <<'EOF'
import json, sys
k = json.load(open(sys.argv[1]))
env = k.get("env", {})
ok = (k.get("argv", [""])[0] == "/bin/sh" and any(a.endswith("/gonb") for a in k["argv"])
      and env.get("GOEXPERIMENT") == "simd" and env.get("PDEDIFF_KERNEL") == "1"
      and env.get("PATH", "").startswith(sys.argv[2] + ":"))
sys.exit(0 if ok else 1)
EOF
}

apt_missing=""
[[ "${PDEDIFF_KERNEL_NO_APT:-0}" == 1 ]] || apt_missing="$(missing_apt)"
if [[ "${force}" != 1 && -z "${apt_missing}" ]] && tools_ok && kernel_ok; then
	log "all present (Jupyter, gonb ${GONB_VERSION}, goimports ${GOIMPORTS_VERSION}, gopls ${GOPLS_VERSION}, kernel ${kernel_json})"
	exit 0
fi

# ---------------------------------------------------------------- Jupyter from Debian

if [[ -n "${apt_missing}" ]]; then
	sudo=()
	if [[ "$(id -u)" != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install as root: apt-get install ${apt_missing//$'\n'/ }"
		sudo=(sudo -E)
	fi
	log "installing missing Debian packages: ${apt_missing//$'\n'/ }"
	# DPkg::Lock::Timeout waits for another apt/dpkg run (apt >= 1.9.11) instead of failing at once.
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=900 update
	# shellcheck disable=SC2086
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends ${apt_missing}
fi
command -v jupyter >/dev/null 2>&1 || die "jupyter not on PATH after installing ${APT_PACKAGES[*]}"

# ---------------------------------------------------------------- GoNB, goimports, gopls

if [[ "${force}" == 1 ]] || ! tools_ok; then
	log "installing gonb ${GONB_VERSION} and goimports ${GOIMPORTS_VERSION} (go install tool in kernel/tools)"
	(cd "${here}/tools" && go install tool)
	if [[ "${force}" == 1 ]] || ! binary_has golang.org/x/tools/gopls "${GOPLS_VERSION}" "${gobin}/gopls"; then
		log "installing gopls ${GOPLS_VERSION}"
		# Outside any module, so the repo's go.mod does not interfere.
		(cd / && go install "golang.org/x/tools/gopls@${GOPLS_VERSION}")
	fi
	tools_ok || die "tools not at the pinned versions after install (gonb ${GONB_VERSION}, goimports ${GOIMPORTS_VERSION}, gopls ${GOPLS_VERSION}) in ${gobin}"
fi

# ---------------------------------------------------------------- kernel registration

log "registering the GoNB kernel (gonb --install) in ${kernel_json}"
"${gobin}/gonb" --install >/dev/null 2>&1 || "${gobin}/gonb" --install
[[ -f "${kernel_json}" ]] || die "gonb --install did not write ${kernel_json}"

# GoNB writes {"argv": [gonb, "--kernel", "{connection_file}", flags...], "env": {}} (internal/kernel/install.go).
# Jupyter (jupyter_client provisioner_base.py) fills ${VAR} in env values from its own environment but has no
# default syntax, so the GOMLX_BACKEND default is set by a /bin/sh wrapper in argv, which also passes any
# GOMLX_BACKEND the user exported through unchanged.
python3 - "${kernel_json}" "${gobin}" "${goroot_bin}" <<'EOF'
import json, os, sys, tempfile
path, gobin, goroot_bin = sys.argv[1:4]
k = json.load(open(path))
argv = k["argv"]
if argv and argv[0] == "/bin/sh":  # already wrapped: keep the gonb part
    argv = argv[3:]
k["argv"] = ["/bin/sh", "-c", 'export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"; exec "$0" "$@"'] + argv
k["display_name"] = "Go (gonb)"
env = k.get("env") or {}
env["GOEXPERIMENT"] = "simd"
env["PATH"] = gobin + ":" + goroot_bin + ":${PATH}"
env["PDEDIFF_KERNEL"] = "1"
k["env"] = env
d = os.path.dirname(path)
fd, tmp = tempfile.mkstemp(dir=d, prefix=".kernel.json.")
with os.fdopen(fd, "w") as f:
    json.dump(k, f, indent=1)
    f.write("\n")
os.chmod(tmp, 0o644)
os.replace(tmp, path)
EOF
kernel_ok || die "kernel.json patch check failed: ${kernel_json}"
log "done: $(cat "${kernel_json}")"
