#!/usr/bin/env bash
# Build times of the root toolbox: clean, then after editing one statement in tools.yaml, for the
# dev, the release (the edit-rebuild loop) and the dist (what ships) profiles. Runs in a copy of the repository's tracked files with a target
# directory of its own, so nothing of the working tree's build is reused or disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$copy"
cd "$copy"
export CARGO_TARGET_DIR=$copy/target
seconds() { # seconds COMMAND...: runs it quietly, prints the wall time
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.1f}')"
}
edit_statement() { # edit_statement N: get_flight's statement gets a new condition, `f.id > -N`
  if grep -q "AND f.id > -" tools.yaml; then
    sed -i "s/AND f.id > -[0-9]*/AND f.id > -$1/" tools.yaml
  else
    sed -i "0,/^  WHERE f.flight_number = ?\$/s//  WHERE f.flight_number = ? AND f.id > -$1/" tools.yaml
  fi
  [ "$(grep -c "AND f.id > -$1\$" tools.yaml)" = 1 ]
}
printf '%-52s %s\n' "clean build, dev (s)" "$(seconds cargo build -p toolbox)"
edit_statement 1
printf '%-52s %s\n' "rebuild after editing one statement, dev (s)" "$(seconds cargo build -p toolbox)"
printf '%-52s %s\n' "clean build, release (s)" "$(seconds cargo build --release -p toolbox)"
edit_statement 2
printf '%-52s %s\n' "rebuild after editing one statement, release (s)" "$(seconds cargo build --release -p toolbox)"
printf '%-52s %s\n' "clean build, dist (fat LTO) (s)" "$(seconds cargo build --profile dist -p toolbox)"
edit_statement 3
printf '%-52s %s\n' "rebuild after editing one statement, dist (s)" "$(seconds cargo build --profile dist -p toolbox)"
