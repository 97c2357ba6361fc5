# tests/net/s3rver.sh - the S3 test server (s3rver from npm, installed into
# tests/node by scripts/install-deps.sh), started once per tests/run.sh on
# a free loopback port with an empty data directory and one bucket.
# Sourced by tests/run.sh (after tests/integration/lib.sh for bs_free_port).
#
#   s3_start DIR   start it; exports BS_TEST_S3_ENDPOINT (http://127.0.0.1:PORT),
#                  BS_TEST_S3_BUCKET, BS_TEST_S3_KEY, BS_TEST_S3_SECRET.
#                  Returns 1 (and says why on stderr) when it cannot.
#   s3_stop        stop it (safe when not started)
#
# s3rver accepts the key pair S3RVER/S3RVER; it checks the access key id of
# a Signature Version 4 request but not the signature itself (its own
# source says so), so signatures are checked by the unit tests against the
# examples AWS publishes.

S3RVER_PID=

s3_start() {
	local dir=$1 bin port i
	bin="$BS_ROOT/tests/node/node_modules/.bin/s3rver"
	if [ ! -x "$bin" ]; then
		echo "s3rver is not installed (run scripts/install-deps.sh)" >&2
		return 1
	fi
	port=$(bs_free_port) || return 1
	mkdir -p "$dir"
	"$bin" -d "$dir" -a 127.0.0.1 -p "$port" -s --configure-bucket backstop-test >"$dir.log" 2>&1 &
	S3RVER_PID=$!
	for ((i = 0; i < 100; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			export BS_TEST_S3_ENDPOINT="http://127.0.0.1:$port" BS_TEST_S3_BUCKET=backstop-test
			export BS_TEST_S3_KEY=S3RVER BS_TEST_S3_SECRET=S3RVER
			return 0
		fi
		kill -0 "$S3RVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "s3rver did not start on port $port:" >&2
	cat "$dir.log" >&2
	s3_stop
	return 1
}

s3_stop() {
	if [ -n "$S3RVER_PID" ]; then
		kill "$S3RVER_PID" 2>/dev/null
		wait "$S3RVER_PID" 2>/dev/null
	fi
	S3RVER_PID=
	unset BS_TEST_S3_ENDPOINT BS_TEST_S3_BUCKET BS_TEST_S3_KEY BS_TEST_S3_SECRET
}
