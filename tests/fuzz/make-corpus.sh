#!/usr/bin/env bash
# tests/fuzz/make-corpus.sh - (re)make the seed corpora under tests/fuzz/corpus/.
#
#   bash tests/fuzz/make-corpus.sh        (after make fuzz-build)
#
# Sources: the library itself (build-fuzz/fuzz/seeds: an archive, header and
# manifest, records, age files, damage scripts), the test fixtures
# (tests/data/age CCTV vectors under 8 KiB, tests/data/config,
# tests/data/v1-snapshot, policies/), and the hand-written seeds in
# tests/fuzz/handmade/<target>/.  Generated files are named seed-*, fixture
# copies fx-*; every other file in a corpus directory (inputs libFuzzer
# found and someone chose to keep) is left alone.  Keep the whole tree
# under 1 MB.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
FUZZ_DIR=${FUZZ_DIR:-build-fuzz}
C=tests/fuzz/corpus
[ -x "$FUZZ_DIR/fuzz/seeds" ] || make -s fuzz-build

for t in tests/fuzz/fuzz_*.c; do
	t=${t##*/fuzz_}
	t=${t%.c}
	mkdir -p "$C/$t"
	rm -f "$C/$t"/seed-* "$C/$t"/fx-*
done
"$FUZZ_DIR/fuzz/seeds" "$C"

# hand-written seeds
for d in tests/fuzz/handmade/*/; do
	[ -d "$d" ] || continue
	t=$(basename "$d")
	for f in "$d"*; do
		cp "$f" "$C/$t/seed-$(basename "$f")"
	done
done

# age: the CCTV vectors' age files (text header stripped, zlib undone),
# armored ones and big ones left out
python3 - "$C/age_header" tests/data/age/* <<'PY'
import sys, zlib, os
out = sys.argv[1]
for path in sys.argv[2:]:
    name = os.path.basename(path)
    if name.endswith('.md'):
        continue
    raw = open(path, 'rb').read()
    head, _, body = raw.partition(b'\n\n')
    meta = dict(l.split(b': ', 1) for l in head.split(b'\n') if b': ' in l)
    if meta.get(b'armored') == b'yes':
        continue
    if meta.get(b'compressed') == b'zlib':
        body = zlib.decompress(body)
    if len(body) > 8192:
        continue
    open(os.path.join(out, 'fx-' + name), 'wb').write(body)
PY

# configuration and policies
for f in tests/data/config/*.yaml; do
	cp "$f" "$C/config/fx-$(basename "$f")"
done
for f in tests/data/config/policies/*.yaml policies/retention.yaml; do
	cp "$f" "$C/retention_policy/fx-$(basename "$(dirname "$f")")-$(basename "$f")"
done
cp policies/drill.yaml "$C/drill_policy/fx-drill.yaml"

# the version 1 snapshot fixture
for f in tests/data/v1-snapshot/archives/*; do
	cp "$f" "$C/archive/fx-v1-$(basename "$f")"
	cp "$f" "$C/tar/fx-v1-$(basename "$f")"
done
for f in tests/data/v1-snapshot/snapshots/*.json; do
	cp "$f" "$C/catalog_record/fx-v1-$(basename "$f")"
done

du -sh "$C"
