#!/usr/bin/env bash
# Executes notebooks headless with the GoNB kernel and checks them. Two modes:
#
#   bash kernel/run-notebooks.sh [NOTEBOOK.ipynb ...]            copy mode (CI, make test-notebooks): executes
#                                                                copies into $NB_OUT; the notebooks are not touched
#   bash kernel/run-notebooks.sh --inplace [NOTEBOOK.ipynb ...]  in-place mode (make notebooks): the same, then every
#                                                                notebook that passed is replaced by its executed copy
#                                                                (outputs kept, execution timestamps stripped); a
#                                                                notebook that failed is left as it was
#
# Default notebooks: notebooks/*.ipynb. A notebook passes when
#   - every cell runs without error: a Go compile error, a panic, a failed nbshow.Check (a panic), a failing
#     !shell command (GoNB prints "exit status N" to stderr) all fail it;
#   - no output line reports a failed check ("check ... FAILED");
#   - it shows at least metadata.pdediff.min_images inline images (image/png, image/svg+xml, or text/html holding
#     an <svg>; the key is required) and prints at least metadata.pdediff.min_checks "check ... OK" lines
#     (optional key, default 0);
#   - the run's log holds no stack trace.
# Prints one line per notebook (PASS|FAIL, seconds, images, checks) and a closing line "N passed, M failed";
# exits 1 if any failed, 2 on a usage or set-up error.
#
# Logs: $NB_OUT/NAME.log is nbconvert's own output; the GoNB kernel's log (klog: start-up lines, the programs it
# runs, the stack trace it prints when it stops gopls) goes to $NB_OUT/NAME.kernel.log instead, through a copy of
# the installed kernelspec ("pdediff-nbrun", in $NB_OUT/jupyter) whose only change is the log flags.
#
# Environment:
#   NB_TIMEOUT      per-cell timeout in seconds (default 900)
#   NB_OUT          folder for executed copies and logs (default: a fresh mktemp -d, kept)
#   PDEDIFF_PRESET  if set, replaces the preset of each notebook's `%env PDEDIFF_PRESET=...` parameter line in the
#                   executed copy (copy mode only: committed notebooks are executed at their own preset, quick)
#   GOMLX_BACKEND   GoMLX backend for the kernel (default go)
# Run kernel/install.sh first (make kernel does).
set -uo pipefail

export GOEXPERIMENT=simd
export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
timeout_s="${NB_TIMEOUT:-900}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/.." && pwd)"

inplace=0
args=()
for a in "$@"; do
	case "${a}" in
	--inplace) inplace=1 ;;
	-h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-notebooks: unknown option ${a} (want --inplace or notebook paths)" >&2; exit 2 ;;
	*) args+=("${a}") ;;
	esac
done

preset="${PDEDIFF_PRESET:-}"
if [[ -n "${preset}" && "${preset}" != quick && "${preset}" != paper ]]; then
	echo "run-notebooks: PDEDIFF_PRESET=${preset}: want quick or paper" >&2
	exit 2
fi
if [[ ${inplace} == 1 && -n "${preset}" && "${preset}" != quick ]]; then
	echo "run-notebooks: --inplace rewrites the committed notebooks, which are executed at the quick preset; unset PDEDIFF_PRESET=${preset} or run without --inplace" >&2
	exit 2
fi
if ! [[ "${timeout_s}" =~ ^[1-9][0-9]*$ ]]; then
	echo "run-notebooks: NB_TIMEOUT=${timeout_s} must be a positive integer (seconds)" >&2
	exit 2
fi
command -v jupyter >/dev/null 2>&1 || { echo "run-notebooks: jupyter not found: run bash kernel/install.sh" >&2; exit 2; }
jupyter_data_dir="${JUPYTER_DATA_DIR:-${HOME}/.local/share/jupyter}"
kernel_json="${jupyter_data_dir}/kernels/gonb/kernel.json"
[[ -f "${kernel_json}" ]] || { echo "run-notebooks: GoNB kernel not registered (${kernel_json}): run bash kernel/install.sh" >&2; exit 2; }

if [[ ${#args[@]} -gt 0 ]]; then
	notebooks=("${args[@]}")
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
out="$(cd "${out}" && pwd)"
spec_dir="${out}/jupyter/kernels/pdediff-nbrun"
tools="${out}/jupyter/bin"
mkdir -p "${spec_dir}" || { echo "run-notebooks: cannot create ${spec_dir}" >&2; exit 2; }
# Our kernelspec is found first (JUPYTER_PATH precedes the user's data folder); the user's own kernels stay visible.
export JUPYTER_PATH="${out}/jupyter${JUPYTER_PATH:+:${JUPYTER_PATH}}"

mode="copies"
[[ ${inplace} == 1 ]] && mode="in place"
echo "run-notebooks: executing ${#notebooks[@]} notebook(s) (${mode}), preset ${preset:-as set in each notebook}, backend ${GOMLX_BACKEND}; outputs in ${out}"

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
	klog="${out}/${name}.kernel.log"
	input="${out}/${name}.input.ipynb"
	executed="${out}/${name}.ipynb"
	rm -f "${executed}" "${klog}"

	# The kernelspec of this run: the installed one with two changes.
	#  - The kernel's log goes to ${klog}: GoNB turns -logtostderr off when -extra_log is set; with -log_file set
	#    too, klog writes every severity to that one file, and -stderrthreshold=FATAL keeps all but fatal errors off
	#    stderr (so out of ${log}).
	#  - gopls is not on the kernel's PATH: GoNB then does not start it (it serves completion and hover help, which
	#    a headless run never asks for), so it costs no CPU and there is no "killing gopls" stack trace at the end.
	#    The PATH keeps go (GOROOT/bin), goimports (linked into ${tools}) and every folder without a gopls.
	python3 - "${kernel_json}" "${spec_dir}/kernel.json" "${klog}" "${tools}" <<'EOF' || { echo "FAIL ${nb}: cannot write the run's kernelspec"; failed=$((failed + 1)); continue; }
import json, os, sys
src, dst, klog, tools = sys.argv[1:5]
k = json.load(open(src))
drop = ("-logtostderr", "-alsologtostderr", "-log_file", "-extra_log", "-stderrthreshold")
k["argv"] = [a for a in k["argv"] if not a.startswith(drop)] + [
    "-logtostderr=false", "-alsologtostderr=false", "-extra_log=" + klog, "-log_file=" + klog, "-stderrthreshold=FATAL"]
env = k.get("env", {})
dirs = [d for d in env.get("PATH", "${PATH}").replace("${PATH}", os.environ.get("PATH", "")).split(":") if d]
def find(name):
    return next((os.path.join(d, name) for d in dirs if os.access(os.path.join(d, name), os.X_OK)), None)
os.makedirs(tools, exist_ok=True)
goimports = find("goimports")
if goimports:
    link = os.path.join(tools, "goimports")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.realpath(goimports), link)
go = find("go")
keep = [tools] + ([os.path.dirname(os.path.realpath(go))] if go else []) + [d for d in dirs if not os.path.exists(os.path.join(d, "gopls"))]
env["PATH"] = ":".join(dict.fromkeys(keep))
k["env"] = env
k["display_name"] = "Go (gonb), kernel/run-notebooks.sh"
json.dump(k, open(dst, "w"), indent=1)
EOF

	# The copy that is executed: the notebook itself, or with its preset replaced (PDEDIFF_PRESET).
	python3 - "${nb}" "${input}" "${preset}" <<'EOF' || { echo "FAIL ${nb}: cannot read it as a notebook"; failed=$((failed + 1)); continue; }
import json, re, sys
src, dst, preset = sys.argv[1:4]
nb = json.load(open(src))
if preset:
    pat = re.compile(r"^(%env\s+PDEDIFF_PRESET[=\s]\s*)\S+", re.M)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            text = "".join(cell.get("source", ""))
            cell["source"] = pat.sub(lambda m: m.group(1) + preset, text)
json.dump(nb, open(dst, "w"), indent=1, ensure_ascii=False)
EOF

	start=$(date +%s)
	# --allow-errors: the executed notebook is always written, so the check below can show the failing cell's
	# output (GoNB reports compile errors as HTML plus an error output); any error output still fails.
	# The copy is read from stdin by nbconvert started in the notebook's own folder: the kernel then starts there,
	# so GONB_DIR (which the first cell uses to find the repository) is that folder, as when it is opened in Jupyter.
	(cd "$(dirname "${nb}")" && jupyter nbconvert --stdin --to notebook --execute --allow-errors \
		--ExecutePreprocessor.timeout="${timeout_s}" --ExecutePreprocessor.kernel_name=pdediff-nbrun \
		--output-dir "${out}" --output "${name}" <"${input}") >"${log}" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	rm -f "${input}"
	# Drop GoNB's noise from the kernel log: the four start-up self-test lines it writes when no -extra_log file is
	# given (and, as a typed nil, also when one is) and its note that gopls is not installed.
	[[ -f "${klog}" ]] && python3 - "${klog}" <<'EOF'
import re, sys
path = sys.argv[1]
records = []  # one klog record: a header line "[IWEF]mmdd hh:mm:ss ..." and its continuation lines
for line in open(path, errors="replace").read().splitlines(keepends=True):
    if re.match(r"^[IWEF]\d{4} ", line) or not records:
        records.append([line])
    else:
        records[-1].append(line)
noise = re.compile(r"\] \S* ?(Logging to extra logger configured|Info message|Warning message|Error message)\n?$|Program gopls is not installed")
open(path, "w").writelines(l for r in records if not noise.search("".join(r)) for l in r)
EOF
	target=""
	[[ ${inplace} == 1 ]] && target="${nb}"
	verdict="$(python3 - "${nb}" "${executed}" "${rc}" "${log}" "${target}" <<'EOF'
import json, os, re, sys, tempfile
src, executed, rc, log, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
problems = []
try:
    source_nb = json.load(open(src))
    meta = source_nb.get("metadata", {}).get("pdediff", {})
    want = meta["min_images"]
    want_checks = meta.get("min_checks", 0)
    for k, v in (("min_images", want), ("min_checks", want_checks)):
        if not isinstance(v, int) or v < 0:
            raise ValueError(f"{k}={v!r} is not a non-negative integer")
except (KeyError, ValueError, json.JSONDecodeError) as e:
    print(f"FAIL bad metadata.pdediff.min_images/min_checks in the notebook ({e})")
    sys.exit(0)
logtext = open(log, errors="replace").read() if os.path.exists(log) else ""
if rc != 0:
    m = re.search(r"CellExecutionError: (.*)", logtext, re.S)
    detail = m.group(1) if m else logtext[-2000:]
    lines = [l for l in detail.splitlines() if l.strip() and not re.match(r"^[IWEF]\d{4} ", l)]
    problems.append("nbconvert exit %d:\n    %s" % (rc, "\n    ".join(lines[:25])))
trace = re.compile(r"^goroutine \d+ \[|^Traceback \(most recent call last\)", re.M)
if trace.search(logtext) and rc == 0:
    problems.append("the log %s holds a stack trace" % log)
klog = log[: -len(".log")] + ".kernel.log"
if os.path.exists(klog) and trace.search(open(klog, errors="replace").read()):
    problems.append("the kernel log %s holds a stack trace" % klog)
images = checks = 0
shell_fail = re.compile(r"^exit status [1-9][0-9]*$", re.M)
check_ok = re.compile(r"^check .* OK$", re.M)
check_failed = re.compile(r"^check .* FAILED$", re.M)

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

nb = None
try:
    nb = json.load(open(executed))
    for i, cell in enumerate(nb.get("cells", [])):
        outs = cell.get("outputs", [])
        stream = "".join("".join(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
        checks += len(check_ok.findall(stream))
        bad = [o for o in outs if o.get("output_type") == "error"
               or (o.get("output_type") == "stream" and o.get("name") == "stderr" and shell_fail.search("".join(o.get("text", ""))))]
        failed_checks = check_failed.findall(stream)
        if (bad or failed_checks) and len(problems) < 3:
            first = "".join(cell.get("source", "")).strip().splitlines()
            detail = "\n".join(failed_checks + [text_of(o).strip() for o in outs if o.get("output_type") != "stream" or o.get("name") == "stderr"])
            detail = "\n".join(l for l in detail.splitlines() if l.strip())[:1500]
            problems.append("cell %d (%s) failed:\n    %s" % (i, (first[0] if first else "")[:60], detail.replace("\n", "\n    ")))
        for o in outs:
            data = o.get("data", {})
            if "image/png" in data or "image/svg+xml" in data:
                images += 1
            elif "<svg" in "".join(data.get("text/html", "")):
                images += 1
except FileNotFoundError:
    problems.append("no executed notebook written")
if nb is not None and images < want:
    problems.append(f"only {images} inline images, metadata.pdediff.min_images = {want}")
if nb is not None and checks < want_checks:
    problems.append(f"only {checks} passed checks, metadata.pdediff.min_checks = {want_checks}")
status = "FAIL" if problems else "PASS"
if status == "PASS" and target:
    # In place: the executed notebook with the source's metadata and sources (the executed copy may carry a
    # replaced preset line), without nbclient's per-cell execution timestamps.
    nb["metadata"] = dict(source_nb.get("metadata", {}), language_info=nb.get("metadata", {}).get("language_info", source_nb.get("metadata", {}).get("language_info")))
    for cell, orig in zip(nb["cells"], source_nb["cells"]):
        cell["source"] = orig.get("source", "")
        cell.get("metadata", {}).pop("execution", None)
    d = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".run-notebooks.", suffix=".ipynb")
    with os.fdopen(fd, "w") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
print(f"{status} images={images}/{want} checks={checks}/{want_checks}" + (" (rewritten in place)" if status == "PASS" and target else "")
      + "".join("\n  " + p for p in problems))
EOF
)"
	first="${verdict%%$'\n'*}"
	rest=""
	[[ "${verdict}" == *$'\n'* ]] && rest="${verdict#*$'\n'}"
	echo "${first%% *} ${nb#"${root}"/} ${secs}s ${first#* }"
	[[ -n "${rest}" ]] && echo "${rest}" && echo "  (log: ${log}; kernel log: ${klog})"
	if [[ "${first}" == PASS* ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
