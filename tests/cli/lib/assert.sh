# Sourced by the CLI scenario tests. $1 of the test is the softiommu binary, $2 the source dir.
set -u
SIO=${1:?usage: test.sh path/to/softiommu srcdir}
SRC=${2:?usage: test.sh path/to/softiommu srcdir}
fails=0
passes=0
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

# expect_status WANT CMD...: run, keep stdout/stderr in $TMPD/out and $TMPD/err.
expect_status() {
  local want=$1; shift
  "$@" >"$TMPD/out" 2>"$TMPD/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: '$*' exited $got, want $want"; sed 's/^/  stderr: /' "$TMPD/err" | head -5
    fails=$((fails + 1))
  else
    passes=$((passes + 1))
  fi
}
# expect_grep FILE(out|err) PATTERN: the last command's output matches PATTERN (grep -E).
expect_grep() {
  if grep -Eq -- "$2" "$TMPD/$1"; then passes=$((passes + 1)); else
    echo "FAIL: $1 of last command lacks /$2/"; sed 's/^/  | /' "$TMPD/$1" | head -10
    fails=$((fails + 1)); fi
}
# expect_lines FILE N: the last command's FILE has exactly N lines.
expect_lines() {
  local n; n=$(wc -l <"$TMPD/$1")
  if [ "$n" -eq "$2" ]; then passes=$((passes + 1)); else
    echo "FAIL: $1 has $n lines, want $2"; sed 's/^/  | /' "$TMPD/$1" | head -5
    fails=$((fails + 1)); fi
}
finish() {
  echo "$passes passed, $fails failed"
  [ "$fails" -eq 0 ]
}
