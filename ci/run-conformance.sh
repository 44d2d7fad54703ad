#!/usr/bin/env bash
# Run the appc conformance suite against an implementation's adapter, for any CI.
#
#   ci/run-conformance.sh [OPTIONS] ADAPTER_COMMAND [OUT_DIR] [-- RUN_ARGS...]
#
#   ADAPTER_COMMAND   the adapter's command line, one argument: "$PWD/my-adapter --flag"
#                     (absolute paths are safest: the suite may run it from another folder)
#   OUT_DIR           where results and reports go (default: out)
#   RUN_ARGS          passed on to `appc-conformance run` (e.g. --profile appc-0.8.11)
#
# Options:
#   --name NAME           the implementation's name: file names, and the expectations file
#                         NAME.json (default: $APPC_IMPL_NAME, else "custom")
#   --expectations DIR    a folder holding NAME.json, the known failures
#   --suite SPEC          what pip installs when appc-conformance is not installed yet: a
#                         checkout's path, or "git+URL@REF" (default: $APPC_CONFORMANCE_SUITE,
#                         else the suite checkout this script belongs to)
#   --python PY           the Python to install into and run with (default: $PYTHON, else python3)
#
# The Markdown summary is appended to $GITHUB_STEP_SUMMARY when that is set (GitHub Actions),
# and printed otherwise. The exit code is the suite's: 0 no failure (skips and known failures
# do not count), 1 a case failed, 2 a usage or input problem.
set -uo pipefail

usage() {
  if [ "${1:-2}" -eq 0 ]; then sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  else sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; fi
  exit "${1:-2}"
}

name="${APPC_IMPL_NAME:-custom}"
expectations=""
suite="${APPC_CONFORMANCE_SUITE:-}"
python="${PYTHON:-python3}"
positional=()
run_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    --expectations) expectations="${2:?--expectations needs a folder}"; shift 2 ;;
    --suite) suite="${2:?--suite needs a value}"; shift 2 ;;
    --python) python="${2:?--python needs a value}"; shift 2 ;;
    -h|--help) usage 0 ;;
    --) shift; run_args=("$@"); break ;;
    -*) echo "run-conformance: unknown option $1" >&2; usage 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
if [ ${#positional[@]} -lt 1 ] || [ ${#positional[@]} -gt 2 ]; then
  echo "run-conformance: give the adapter command and, optionally, the output folder" >&2
  usage 2
fi
adapter_cmd="${positional[0]}"
out="${positional[1]:-out}"

# The suite: use the installed command, else install it.
if command -v appc-conformance >/dev/null 2>&1; then
  suite_cmd=(appc-conformance)
else
  if [ -z "$suite" ]; then
    here="$(cd "$(dirname "$0")/.." && pwd)"
    if [ -f "$here/pyproject.toml" ] && [ -d "$here/vectors" ]; then
      suite="$here"
    else
      echo "run-conformance: appc-conformance is not installed; give --suite (a checkout or git+URL@REF)" >&2
      exit 2
    fi
  fi
  echo "run-conformance: installing the suite from $suite" >&2
  if ! "$python" -m pip install --quiet "$suite"; then
    echo "run-conformance: could not install the suite from $suite" >&2
    exit 2
  fi
  if command -v appc-conformance >/dev/null 2>&1; then
    suite_cmd=(appc-conformance)
  else
    suite_cmd=("$python" -m appc_conformance)  # the scripts folder is not on PATH
  fi
fi

# An absolute output folder: the suite may run pytest from another folder.
mkdir -p "$out" && out="$(cd "$out" && pwd)"
args=(run --adapter-cmd "$adapter_cmd" --name "$name" --out "$out")
if [ -n "$expectations" ]; then
  args+=(--expectations "$expectations")
fi
args+=("${run_args[@]+"${run_args[@]}"}")

echo "run-conformance: ${suite_cmd[*]} ${args[*]}" >&2
"${suite_cmd[@]}" "${args[@]}"
rc=$?

# The summary first, then every other Markdown report folded away.
summary_files=()
[ -f "$out/summary.md" ] && summary_files+=("$out/summary.md")
for f in "$out"/*.md; do
  [ -f "$f" ] && [ "$f" != "$out/summary.md" ] && summary_files+=("$f")
done
if [ ${#summary_files[@]} -eq 0 ]; then
  echo "run-conformance: no Markdown summary in $out (see $out/results-$name.log)" >&2
else
  emit() {
    cat "${summary_files[0]}"; echo
    for f in "${summary_files[@]:1}"; do
      printf '<details><summary>%s</summary>\n\n' "$(basename "$f")"
      cat "$f"; printf '\n</details>\n\n'
    done
  }
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    emit >> "$GITHUB_STEP_SUMMARY"
  else
    cat "${summary_files[0]}"; echo
  fi
fi

echo "run-conformance: exit $rc; results and reports in $out/" >&2
exit "$rc"
