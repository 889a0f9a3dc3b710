#!/usr/bin/env bash
# Records the distribution's class-data-sharing archive, BUILD_DIR/infergate.jsa: the JVM runs
# `infergate class-archive-run` (a server, a worker and a gateway start, warm up and stop) and
# writes every class it loaded into the archive as it exits. bin/infergate maps the archive at
# every start while it is newer than the jar, which spares the loading and parsing of those
# classes. Run by `./mvnw package`; a JVM that cannot record one leaves the distribution without.
# Usage: bin/lib/class-archive.sh BUILD_DIR (the app module's target directory)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:?usage: class-archive.sh BUILD_DIR}" && pwd)"
archive="$build/infergate.jsa"
log="$build/class-archive.log"
rm -f "$archive" "$archive.partial"
if [[ "$build" != "$root/app/target" ]]; then
  echo "class-archive: $build is not the distribution bin/infergate runs; no archive recorded"
  exit 0
fi
started=$(date +%s)
if INFERGATE_LOG_LEVEL=WARN INFERGATE_RECORD_CLASS_ARCHIVE="$archive.partial" \
    "$root/bin/infergate" class-archive-run > "$log" 2>&1 && [[ -s "$archive.partial" ]]; then
  mv "$archive.partial" "$archive"
  echo "class-archive: recorded $archive ($(du -m "$archive" | cut -f1) MB) in $(( $(date +%s) - started )) s"
else
  rm -f "$archive.partial"
  echo "class-archive: WARNING: no archive recorded (processes start without it); see $log" >&2
  tail -20 "$log" >&2
fi
