#!/usr/bin/env bash
# Gate a change of the appc/spec repository: build the implementations from the base and from
# the change, run the conformance suite on both in every profile, and fail on regressions.
#
#   ci/spec-change.sh [OPTIONS] BASE_TREE CHANGE_TREE [-- RUN_ARGS...]
#
#   BASE_TREE, CHANGE_TREE  roots of two checkouts of the appc/spec repository (the change's
#                           base and the change itself), or any two appc/spec source trees
#   RUN_ARGS                passed on to `appc-conformance run` on both sides
#                           (e.g. --case 'app-strings/*' --profile appc-0.8.11)
#
# Options:
#   --out DIR               results and reports (default: a new folder under $TMPDIR or /tmp,
#                           named at the end): DIR/base/IMPL/ and DIR/change/IMPL/ hold each run
#                           (results-IMPL-SIDE.json, its console in run.log), DIR/verdict-IMPL.txt
#                           each comparison with every list, DIR/diff-IMPL.txt `appc-conformance diff`
#   --verbose               also print the failures the base has too (by default they are counted
#                           and kept in DIR/verdict-IMPL.txt only)
#   --allow-dropped PROFILE a profile the change may stop claiming without failing the gate
#                           (repeatable), e.g. appc-0.8.11 for a change whose app strings follow
#                           the image tags draft
#   --impl NAMES            comma-separated, from go-appc (the library through the Go adapter)
#                           and actool (the tree's actool command); default: go-appc,actool
#   --actool-profile NAME   the profile the change's actool claims (repeatable; default: the
#                           actool adapter's, appc-0.8.11), e.g. appc-imagetags for a change
#                           that implements the image tags draft
#   --vectors-repo DIR      a git checkout of the conformance suite whose vector set changes
#                           along with the spec (default: none; both sides run the installed set)
#   --vectors-base REV      that repository's revision for the base (needs --vectors-repo)
#   --vectors-change REV    and for the change (default: its working tree)
#   --python PY             the Python that has appc-conformance installed (default: $PYTHON,
#                           else python3)
#
# Implementations are built with the suite's Go build (python -m appc_conformance.conformance.adapters.go.build
# --spec-src TREE --spec-name base|change): the reports show each side's version as
# VERSION+base.COMMIT and VERSION+change.COMMIT, without the trees' paths.
#
# Each profile is compared on its own: claimed by both sides (regressions and fixes), ADDED (the
# base declines it, the change claims it: what the change passes and fails, its own failures
# apart from those the base has too), or DROPPED (the base claims it, the change declines it).
# The verdict is printed first, then the lists.
#
# Exit code: 0 no regression; 1 a case that passed on the base does not pass on the change in a
# profile both claim, or a profile dropped without --allow-dropped, or a vector change moved a
# verdict the wrong way (`vectors-diff`); 2 a build, usage or run problem.
set -uo pipefail

usage() {
  # The comment block at the top of this file, without its '# '.
  local text
  text="$(awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0")"
  if [ "${1:-2}" -eq 0 ]; then printf '%s\n' "$text"; else printf '%s\n' "$text" >&2; fi
  exit "${1:-2}"
}
die() { echo "spec-change: $*" >&2; exit 2; }

out=""
verbose=()
allow_dropped=()
impls="go-appc,actool"
actool_profiles=()
vectors_repo=""
vectors_base=""
vectors_change=""
python="${PYTHON:-python3}"
positional=()
run_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --verbose) verbose=(--verbose); shift ;;
    --allow-dropped) allow_dropped+=(--allow-dropped "${2:?--allow-dropped needs a profile}"); shift 2 ;;
    --impl) impls="${2:?--impl needs names}"; shift 2 ;;
    --actool-profile) actool_profiles+=("${2:?--actool-profile needs a profile}"); shift 2 ;;
    --vectors-repo) vectors_repo="${2:?--vectors-repo needs a folder}"; shift 2 ;;
    --vectors-base) vectors_base="${2:?--vectors-base needs a revision}"; shift 2 ;;
    --vectors-change) vectors_change="${2:?--vectors-change needs a revision}"; shift 2 ;;
    --python) python="${2:?--python needs a value}"; shift 2 ;;
    -h|--help) usage 0 ;;
    --) shift; run_args=("$@"); break ;;
    -*) echo "spec-change: unknown option $1" >&2; usage 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -eq 2 ] || { echo "spec-change: give the base tree and the change tree" >&2; usage 2; }
base_tree="${positional[0]}"
change_tree="${positional[1]}"
for t in "$base_tree" "$change_tree"; do
  [ -d "$t/discovery" ] && [ -d "$t/schema/types" ] || die "$t is not an appc/spec source tree (no discovery/ or schema/types/)"
done
if [ -n "$vectors_base$vectors_change" ] && [ -z "$vectors_repo" ]; then
  die "--vectors-base and --vectors-change need --vectors-repo"
fi
if [ -n "$vectors_repo" ] && [ -z "$vectors_base" ]; then
  die "--vectors-repo needs --vectors-base (the base's revision of the vector set)"
fi
IFS=',' read -r -a impl_list <<< "$impls"
for impl in "${impl_list[@]}"; do
  case "$impl" in go-appc|actool) ;; *) die "unknown implementation $impl (go-appc, actool)" ;; esac
done

suite=("$python" -m appc_conformance)
"${suite[@]}" --version >/dev/null 2>&1 || die "appc-conformance is not installed for $python (pip install it first)"

if [ -z "$out" ]; then
  # Not in the current folder: the gate is usually run from a checkout, which stays clean.
  out="$(mktemp -d "${TMPDIR:-/tmp}/appc-spec-change.XXXXXX")" || die "cannot make a folder for the results"
fi
mkdir -p "$out" && out="$(cd "$out" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"

# The vector set of each side: the installed one, or the suite repository's at two revisions.
base_vectors=()
change_vectors=()
if [ -n "$vectors_repo" ]; then
  vpath="vectors"
  for side in base change; do
    rev="$vectors_base"; [ "$side" = change ] && rev="$vectors_change"
    dest="$out/vectors-$side"
    rm -rf "$dest" && mkdir -p "$dest"
    if [ -z "$rev" ] || [ "$rev" = WORKTREE ]; then
      cp -R "$vectors_repo/$vpath/." "$dest/" || die "cannot copy $vectors_repo/$vpath"
    else
      git -C "$vectors_repo" archive "$rev" "$vpath" | tar -x -C "$dest" --strip-components=1 \
        || die "cannot read $vpath at $rev in $vectors_repo"
    fi
  done
  base_vectors=(--vectors "$out/vectors-base")
  change_vectors=(--vectors "$out/vectors-change")
fi

build() {  # build KIND TREE SIDE -> prints the binary's path
  local flag=()
  [ "$1" = actool ] && flag=(--actool)
  "$python" -m appc_conformance.conformance.adapters.go.build "${flag[@]}" --spec-src "$2" --spec-name "$3"
}

rc=0
declare -A results_base results_change
for side in base change; do
  tree="$base_tree"; vec=("${base_vectors[@]+"${base_vectors[@]}"}")
  if [ "$side" = change ]; then tree="$change_tree"; vec=("${change_vectors[@]+"${change_vectors[@]}"}"); fi
  for impl in "${impl_list[@]}"; do
    echo "spec-change: building $impl from the $side tree" >&2
    if [ "$impl" = go-appc ]; then
      bin="$(build go-appc "$tree" "$side")" || die "the Go adapter did not build from the $side tree"
      adapter=("$bin")
    else
      bin="$(build actool "$tree" "$side")" || die "actool did not build from the $side tree"
      adapter=("$python" -m appc_conformance.conformance.adapters.actool --actool "$bin")
      if [ "$side" = change ]; then
        for p in "${actool_profiles[@]+"${actool_profiles[@]}"}"; do adapter+=(--profile "$p"); done
      fi
    fi
    dir="$out/$side/$impl"
    rm -rf "$dir" && mkdir -p "$dir"
    cmd="$(printf '%q ' "${adapter[@]}")"
    echo "spec-change: running the suite on $impl ($side), every profile; console in $dir/run.log" >&2
    # Named IMPL-SIDE: no bundled expectations apply (base and change are compared, not graded
    # against the released library's known failures). No --profile: both sides run every
    # profile, and each declines at the handshake what its code does not follow.
    "${suite[@]}" run --adapter-cmd "${cmd% }" --name "$impl-$side" --out "$dir" \
      "${vec[@]+"${vec[@]}"}" "${run_args[@]+"${run_args[@]}"}" > "$dir/run.log" 2>&1
    status=$?
    results="$dir/results-$impl-$side.json"
    if [ "$status" -ge 2 ] || [ ! -f "$results" ]; then
      tail -n 20 "$dir/run.log" >&2
      die "the run of $impl on the $side tree did not complete (exit $status; see $dir/run.log)"
    fi
    if [ "$side" = base ]; then results_base[$impl]="$results"
    else results_change[$impl]="$results"; fi
  done
done

# Profile by profile: regressions where both sides claim a profile, what an added profile gives,
# what a dropped one loses (ci/spec_change_verdict.py). Printed after the verdict, below.
for impl in "${impl_list[@]}"; do
  "$python" "$here/spec_change_verdict.py" "${verbose[@]+"${verbose[@]}"}" \
    "${allow_dropped[@]+"${allow_dropped[@]}"}" --details "$out/verdict-$impl.txt" \
    "$impl" "${results_base[$impl]}" "${results_change[$impl]}" > "$out/console-$impl.txt"
  status=$?
  if [ "$status" -eq 1 ]; then rc=1
  elif [ "$status" -ne 0 ]; then die "the comparison of $impl failed (exit $status)"; fi
  # The suite's own case-by-case diff, for the record (every profile, every case).
  "${suite[@]}" diff --verbose "${results_base[$impl]}" "${results_change[$impl]}" > "$out/diff-$impl.txt" 2>&1
done

# The vector set's own changes, and how each implementation's verdicts on them move.
if [ -n "$vectors_repo" ]; then
  before=(); after=()
  for impl in "${impl_list[@]}"; do before+=("${results_base[$impl]}"); after+=("${results_change[$impl]}"); done
  echo "== vector changes: ${vectors_base} -> ${vectors_change:-working tree}" > "$out/vectors-diff.txt"
  "${suite[@]}" vectors-diff --repo "$vectors_repo" "$vectors_base" ${vectors_change:+"$vectors_change"} \
    --before "${before[@]}" --after "${after[@]}" >> "$out/vectors-diff.txt"
  status=$?
  if [ "$status" -eq 1 ]; then rc=1
  elif [ "$status" -ne 0 ]; then cat "$out/vectors-diff.txt" >&2; die "vectors-diff failed (exit $status)"; fi
else
  echo "== vector set: unchanged (both sides ran the installed suite's vectors)" > "$out/vectors-diff.txt"
fi

# The verdict first, then each implementation's comparison, then the vector set's.
if [ "$rc" -eq 0 ]; then
  echo "spec-change: no regression; results and reports in $out"
else
  echo "spec-change: FAILED (regressions or a dropped profile, below); results and reports in $out"
fi
for impl in "${impl_list[@]}"; do cat "$out/console-$impl.txt"; done
cat "$out/vectors-diff.txt"
exit "$rc"
