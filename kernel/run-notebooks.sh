#!/usr/bin/env bash
# Executes notebooks headless with the GoNB kernel and checks them:
#   - every cell runs without error: a Go compile error, a panic (both: an error output) or a failing !shell
#     command (GoNB prints "exit status N" to stderr) fails the notebook,
#   - the executed notebook has at least metadata.pdediff.min_images inline images
#     (image/png, image/svg+xml, or text/html holding an <svg>; the key is required).
# Prints one summary line per notebook and a closing line "N passed, M failed"; exits 1 if any failed.
#
# Usage: bash kernel/run-notebooks.sh [NOTEBOOK.ipynb ...]      (default: notebooks/*.ipynb)
# Environment:
#   NB_TIMEOUT      per-cell timeout in seconds (default 600)
#   NB_OUT          directory for executed notebooks and logs (default: a fresh mktemp -d, kept)
#   PDEDIFF_PRESET  preset the notebooks run at (default quick)
#   GOMLX_BACKEND   GoMLX backend for the kernel (default go)
# Run kernel/install.sh first (make test-notebooks does).
set -uo pipefail

export GOEXPERIMENT=simd
export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
export PDEDIFF_PRESET="${PDEDIFF_PRESET:-quick}"
timeout_s="${NB_TIMEOUT:-600}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/.." && pwd)"

if ! [[ "${timeout_s}" =~ ^[1-9][0-9]*$ ]]; then
	echo "run-notebooks: NB_TIMEOUT=${timeout_s} must be a positive integer (seconds)" >&2
	exit 2
fi
command -v jupyter >/dev/null 2>&1 || { echo "run-notebooks: jupyter not found: run bash kernel/install.sh" >&2; exit 2; }
kernels="$(jupyter kernelspec list 2>/dev/null)"
[[ "${kernels}" =~ (^|[[:space:]])gonb[[:space:]] ]] || { echo "run-notebooks: GoNB kernel not registered: run bash kernel/install.sh" >&2; exit 2; }

if [[ $# -gt 0 ]]; then
	notebooks=("$@")
else
	shopt -s nullglob
	notebooks=("${root}"/notebooks/*.ipynb)
	shopt -u nullglob
fi
if [[ ${#notebooks[@]} -eq 0 ]]; then
	echo "run-notebooks: no notebooks found in ${root}/notebooks" >&2
	echo "0 passed, 0 failed"
	exit 1
fi

out="${NB_OUT:-}"
if [[ -z "${out}" ]]; then out="$(mktemp -d "${TMPDIR:-/tmp}/pdediff-notebooks.XXXXXX")"; fi
mkdir -p "${out}" || { echo "run-notebooks: cannot create ${out}" >&2; exit 2; }
echo "run-notebooks: executing ${#notebooks[@]} notebook(s), preset ${PDEDIFF_PRESET}, backend ${GOMLX_BACKEND}; outputs in ${out}"

passed=0
failed=0
for nb in "${notebooks[@]}"; do
	name="$(basename "${nb}" .ipynb)"
	if [[ ! -f "${nb}" ]]; then
		echo "FAIL ${nb}: no such file"
		failed=$((failed + 1))
		continue
	fi
	log="${out}/${name}.log"
	executed="${out}/${name}.ipynb"
	rm -f "${executed}"
	start=$(date +%s)
	# --allow-errors: the executed notebook is always written, so the check below can show the failing cell's
	# output (GoNB reports compile errors as HTML plus an error output); any error output still fails.
	jupyter nbconvert --to notebook --execute --allow-errors \
		--ExecutePreprocessor.timeout="${timeout_s}" --ExecutePreprocessor.kernel_name=gonb \
		--output-dir "${out}" --output "${name}" "${nb}" >"${log}" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	verdict="$(python3 - "${nb}" "${executed}" "${rc}" "${log}" <<'EOF'
import json, re, sys
src, executed, rc, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
problems = []
try:
    meta = json.load(open(src)).get("metadata", {}).get("pdediff", {})
    want = meta["min_images"]
    if not isinstance(want, int) or want < 0:
        raise ValueError(f"min_images={want!r} is not a non-negative integer")
except (KeyError, ValueError, json.JSONDecodeError) as e:
    print(f"FAIL bad metadata.pdediff.min_images in the notebook ({e})")
    sys.exit(0)
if rc != 0:
    text = open(log, errors="replace").read()
    m = re.search(r"CellExecutionError: (.*)", text, re.S)
    detail = m.group(1) if m else text[-2000:]
    # Keep the failing cell's first lines and the error lines, drop the kernel's own logging.
    lines = [l for l in detail.splitlines() if l.strip() and not re.match(r"^[IWE]\d{4} ", l)]
    problems.append("nbconvert exit %d:\n    %s" % (rc, "\n    ".join(lines[:25])))
images = 0
shell_fail = re.compile(r"^exit status [1-9][0-9]*$", re.M)

def text_of(o):
    """Plain text of an output: stream text, error value, or HTML with tags and styles removed."""
    if o.get("output_type") == "stream":
        return "".join(o.get("text", ""))
    if o.get("output_type") == "error":
        return "%s: %s" % (o.get("ename"), o.get("evalue", ""))
    html = "".join(o.get("data", {}).get("text/html", ""))
    html = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    html = re.sub(r"<[^>]+>", "", html)
    return re.sub(r"\n\s*\n+", "\n", html).replace("&#34;", '"').replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

try:
    nb = json.load(open(executed))
    for i, cell in enumerate(nb.get("cells", [])):
        outs = cell.get("outputs", [])
        bad = [o for o in outs if o.get("output_type") == "error"
               or (o.get("output_type") == "stream" and o.get("name") == "stderr" and shell_fail.search("".join(o.get("text", ""))))]
        if bad and len(problems) < 3:
            src = "".join(cell.get("source", "")).strip().splitlines()
            detail = "\n".join(text_of(o).strip() for o in outs if o.get("output_type") != "stream" or o.get("name") == "stderr")
            detail = "\n".join(l for l in detail.splitlines() if l.strip())[:1500]
            problems.append("cell %d (%s) failed:\n    %s" % (i, (src[0] if src else "")[:60], detail.replace("\n", "\n    ")))
        for o in outs:
            data = o.get("data", {})
            if "image/png" in data or "image/svg+xml" in data:
                images += 1
            elif "<svg" in "".join(data.get("text/html", "")):
                images += 1
except FileNotFoundError:
    if rc == 0:
        problems.append("no executed notebook written")
if rc == 0 and images < want:
    problems.append(f"only {images} inline images, metadata.pdediff.min_images = {want}")
status = "FAIL" if problems else "PASS"
print(f"{status} images={images}/{want}" + "".join("\n  " + p for p in problems))
EOF
)"
	first="${verdict%%$'\n'*}"
	rest=""
	[[ "${verdict}" == *$'\n'* ]] && rest="${verdict#*$'\n'}"
	echo "${first%% *} ${nb#"${root}"/} ${secs}s ${first#* }"
	[[ -n "${rest}" ]] && echo "${rest}" && echo "  (log: ${log})"
	if [[ "${first}" == PASS* ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
