#!/usr/bin/env bash
# check-chromium.sh tells loudly when /usr/bin/chromium is missing, because the
# browser tests (cmd/latchkey/browser_test.go) then skip. Under CI=true, where
# every suite must run, it fails instead.
set -euo pipefail

chromium=/usr/bin/chromium

if [[ -x "$chromium" ]]; then
	echo "check-chromium: found $chromium"
	exit 0
fi

echo
echo "******************************************************************************"
echo "*** $chromium is not installed: the browser tests will be SKIPPED ***"
echo "*** install it with: apt-get install -y chromium ***"
echo "******************************************************************************"
echo
if [[ "${CI:-}" == "true" ]]; then
	echo "check-chromium: CI=true: refusing to continue without Chromium" >&2
	exit 1
fi
