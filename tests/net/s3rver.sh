# tests/net/s3rver.sh - the S3 test server (s3rver from npm, installed into
# tests/node by scripts/install-deps.sh, run by tests/net/s3rver.js), started
# once per tests/run.sh on a free loopback port with an empty data directory
# and one bucket.
# Sourced by tests/run.sh (after tests/integration/lib.sh for bs_free_port).
#
#   s3_start DIR   start it; exports BS_TEST_S3_ENDPOINT (http://127.0.0.1:PORT),
#                  BS_TEST_S3_BUCKET, BS_TEST_S3_KEY, BS_TEST_S3_SECRET,
#                  and BS_TEST_S3_DIR (DIR: what the server keeps on disk).
#                  Returns 1 (and says why on stderr) when it cannot.
#   s3_stop        stop it (safe when not started)
#
# The key pair is S3RVER/S3RVER.  s3rver itself checks only the access key
# id of a Signature Version 4 request; tests/net/s3rver.js, which starts it,
# verifies the signature (a wrong secret is 403 SignatureDoesNotMatch, as
# from S3) and adds AbortMultipartUpload, ListMultipartUploads and a
# DeleteObjects that checks Content-MD5.  Its data directory is DIR:
# objects under DIR/<bucket>/, the parts of unfinished multipart uploads
# under DIR/<bucket>/._S3rver_uploads/<upload id>/.  Requests without an
# Authorization header are served anonymously (the tests list that way).
# node runs with --openssl-legacy-provider: s3rver's ListObjectsV2
# continuation tokens use DES (without it, a listing of more than 1,000 keys
# is HTTP 500).

S3RVER_PID=

s3_start() {
	local dir=$1 port i
	if [ ! -d "$BS_ROOT/tests/node/node_modules/s3rver" ] || ! command -v node >/dev/null; then
		echo "s3rver is not installed (run scripts/install-deps.sh)" >&2
		return 1
	fi
	port=$(bs_free_port) || return 1
	mkdir -p "$dir"
	node --openssl-legacy-provider "$BS_ROOT/tests/net/s3rver.js" "$dir" 127.0.0.1 "$port" backstop-test >"$dir.log" 2>&1 &
	S3RVER_PID=$!
	for ((i = 0; i < 100; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			export BS_TEST_S3_ENDPOINT="http://127.0.0.1:$port" BS_TEST_S3_BUCKET=backstop-test
			export BS_TEST_S3_KEY=S3RVER BS_TEST_S3_SECRET=S3RVER BS_TEST_S3_DIR=$dir
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
	unset BS_TEST_S3_ENDPOINT BS_TEST_S3_BUCKET BS_TEST_S3_KEY BS_TEST_S3_SECRET BS_TEST_S3_DIR
}
