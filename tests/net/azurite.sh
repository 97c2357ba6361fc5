# tests/net/azurite.sh - the Azure Blob test server (azurite-blob from npm,
# installed into tests/node by scripts/install-deps.sh), started once per
# tests/run.sh on a free loopback port, data in memory, with one container.
# Sourced by tests/run.sh (after tests/integration/lib.sh for bs_free_port).
#
#   azurite_start DIR  start it; exports BS_TEST_AZURE_ENDPOINT
#                      (http://127.0.0.1:PORT/devstoreaccount1, path-style),
#                      BS_TEST_AZURE_ACCOUNT, BS_TEST_AZURE_CONTAINER,
#                      BS_TEST_AZURE_KEY.  Returns 1 (and says why on
#                      stderr) when it cannot.
#   azurite_stop       stop it (safe when not started)
#
# Azurite knows one account, devstoreaccount1, with the well-known key
# Microsoft publishes for it, and checks Shared Key and SAS signatures.

AZURITE_PID=
AZURITE_DEV_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

azurite_start() {
	local dir=$1 bin port i
	bin="$BS_ROOT/tests/node/node_modules/.bin/azurite-blob"
	if [ ! -x "$bin" ]; then
		echo "azurite is not installed (run scripts/install-deps.sh)" >&2
		return 1
	fi
	port=$(bs_free_port) || return 1
	mkdir -p "$dir"
	"$bin" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence --extentMemoryLimit 1024 \
		--disableTelemetry --silent >"$dir.log" 2>&1 &
	AZURITE_PID=$!
	for ((i = 0; i < 150; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			export BS_TEST_AZURE_ENDPOINT="http://127.0.0.1:$port/devstoreaccount1"
			export BS_TEST_AZURE_ACCOUNT=devstoreaccount1 BS_TEST_AZURE_CONTAINER=backstop-test
			export BS_TEST_AZURE_KEY="$AZURITE_DEV_KEY"
			if AZURE_STORAGE_KEY="$AZURITE_DEV_KEY" python3 "$BS_ROOT/tests/net/azure_admin.py" container \
				"$BS_TEST_AZURE_ENDPOINT" devstoreaccount1 backstop-test >>"$dir.log" 2>&1; then
				return 0
			fi
			break
		fi
		kill -0 "$AZURITE_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "azurite did not start on port $port:" >&2
	cat "$dir.log" >&2
	azurite_stop
	return 1
}

azurite_stop() {
	if [ -n "$AZURITE_PID" ]; then
		kill "$AZURITE_PID" 2>/dev/null
		wait "$AZURITE_PID" 2>/dev/null
	fi
	AZURITE_PID=
	unset BS_TEST_AZURE_ENDPOINT BS_TEST_AZURE_ACCOUNT BS_TEST_AZURE_CONTAINER BS_TEST_AZURE_KEY
}
