#!/usr/bin/env bash
# Run the test suite N times, each from a fresh clone, as a newcomer would; see --help.
set -u -o pipefail

usage() {
    cat <<'USAGE'
usage: scripts/test-repeat.sh [N]        (make test-repeat N=10 [LOAD=1])

N times (default 10): a fresh `git clone` of this checkout's HEAD (committed work only)
into a temporary directory, catalogs compiled, then the README's test command
(`python -m pytest -q -n 3 --dist worksteal`, what `make test` runs). Prints one line per
run and a summary ("10 passed, 0 failed"); the exit status is 0 only if every run passed.

One virtual environment serves all N runs: it is built once per call, with pip, from the
first clone's pyproject.toml (the project's dependencies and its [test] extra); each clone
gets it as its .venv (a link) with the clone itself installed in it in editable mode (no
dependencies fetched), so that `python -m bot` in the tests runs that clone's code.
Building it needs the network or pip's cache, once.

Environment:
  LOAD=1    run a CPU-heavy process beside the tests (one busy Python loop per
            LOAD_CORES, default 1 core), stopped at the end: the suite must pass on a
            loaded machine too.
  KEEP=dir  where the logs of failing runs are kept (default: a new directory under
            /tmp, printed at the end). Passing runs leave nothing behind.
  PY        the Python that builds the environment (default python3).
USAGE
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
esac
N="${1:-${N:-10}}"
case "$N" in
    '' | *[!0-9]*) usage >&2; exit 2 ;;
esac
PY="${PY:-python3}"
LOAD="${LOAD:-0}"
LOAD_CORES="${LOAD_CORES:-1}"

src="$(git rev-parse --show-toplevel)" || exit 2
head="$(git -C "$src" rev-parse HEAD)" || exit 2
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
    echo "note: uncommitted changes are not tested (HEAD is ${head:0:10})" >&2
fi
work="$(mktemp -d /tmp/quartierbot-repeat.XXXXXX)"
chmod 755 "$work"  # some tests run the bot as another user (nobody), as a service would
keep="${KEEP:-$(mktemp -d /tmp/quartierbot-repeat-failures.XXXXXX)}"
mkdir -p "$keep"
burners=()
running=""

cleanup() {
    if [ -n "$running" ]; then  # the run in progress: its own process group
        kill -TERM -- "-$running" 2>/dev/null
        wait "$running" 2>/dev/null
    fi
    for pid in "${burners[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

clone() {  # clone HEAD into $1
    git clone -q --no-checkout "$src" "$1" && git -C "$1" checkout -q --detach "$head"
}

echo "commit ${head:0:10}; $N run(s); environment in $work/venv"
clone "$work/seed" || { echo "cannot clone $src" >&2; exit 2; }
"$PY" -m venv "$work/venv" || exit 2
venv="$work/venv/bin"
if ! { "$venv/pip" install -q -q --upgrade pip \
        && "$venv/pip" install -q -q "setuptools>=68" "$work/seed[test]" \
        && "$venv/pip" uninstall -q -q -y quartierbot; } >"$work/pip.log" 2>&1; then
    cat "$work/pip.log" >&2
    echo "cannot build the environment" >&2
    exit 2
fi

if [ "$LOAD" = 1 ]; then
    for _ in $(seq "$LOAD_CORES"); do
        "$PY" -c 'while True: pass' &
        burners+=("$!")
    done
    echo "load: ${#burners[@]} busy process(es) beside the tests (pid ${burners[*]})"
fi

passed=0
failed=0
for i in $(seq "$N"); do
    run="$work/run-$i"
    log="$work/run-$i.log"
    started=$(date +%s)
    setsid bash -c '
        set -e
        git clone -q --no-checkout "$1" "$2"
        git -C "$2" checkout -q --detach "$3"
        cd "$2"
        ln -s "$4" .venv
        .venv/bin/pip install -q -q --no-deps --no-build-isolation -e .
        .venv/bin/pybabel compile -d locales -D messages
        exec .venv/bin/python -m pytest -q -n 3 --dist worksteal -p no:cacheprovider
    ' run "$src" "$run" "$head" "$work/venv" >"$log" 2>&1 &
    running=$!
    if wait "$running"; then
        passed=$((passed + 1))
        verdict="passed"
    else
        failed=$((failed + 1))
        verdict="FAILED (log: $keep/run-$i.log)"
        cp "$log" "$keep/run-$i.log"
    fi
    running=""
    summary="$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed|error)' "$log" | tail -1)"
    echo "run $i: $verdict in $(($(date +%s) - started)) s${summary:+ — $summary}"
    rm -rf "$run"
done

echo "$passed passed, $failed failed"
if [ "$failed" -eq 0 ]; then
    rmdir "$keep" 2>/dev/null
else
    echo "logs of the failing runs: $keep"
fi
[ "$failed" -eq 0 ]
