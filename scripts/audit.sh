#!/usr/bin/env bash
# Dependency audit: pip-audit over the packages installed in the active Python environment
# (the project's virtualenv), failing on any known vulnerability.
#
#   bash scripts/audit.sh                      # audit the active venv (or `python3` on PATH)
#   AUDIT_SERVICE=osv bash scripts/audit.sh    # vulnerability service: pypi (default) or osv
#   bash scripts/audit.sh --ignore-vuln GHSA-xxxx-xxxx-xxxx   # extra pip-audit options
#
# Exit codes: 0 no known vulnerability; 1 known vulnerabilities (listed); 3 the vulnerability
# database could not be reached or no installed package could be checked against it (so "no
# vulnerability found" would mean nothing); 2 usage or install problem.
# pip-audit is installed into the active environment when missing (it then audits itself too).
# The project itself (installed editable, not on PyPI) is skipped.
set -euo pipefail

PY="${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}"
PY="${PY:-$(command -v python3 || command -v python)}"
SERVICE="${AUDIT_SERVICE:-pypi}"

if ! "$PY" -m pip_audit --version >/dev/null 2>&1; then
  echo "audit: installing pip-audit into $("$PY" -c 'import sys; print(sys.prefix)')" >&2
  "$PY" -m pip install --quiet pip-audit || { echo "audit: could not install pip-audit" >&2; exit 2; }
fi

report="$(mktemp)"
errors="$(mktemp)"
trap 'rm -f "$report" "$errors"' EXIT

set +e
"$PY" -m pip_audit --vulnerability-service "$SERVICE" --skip-editable --progress-spinner off \
  --desc on --format json --output "$report" "$@" 2>"$errors"
rc=$?
set -e

if [ ! -s "$report" ]; then
  if grep -qiE "connection|timed out|resolve|unreachable|network|ssl" "$errors"; then
    echo "audit: the vulnerability database ($SERVICE) is unreachable:" >&2
    grep -iE "error" "$errors" | tail -n 3 >&2 || true
    exit 3
  fi
  echo "audit: pip-audit failed (exit $rc):" >&2
  tail -n 5 "$errors" >&2
  exit 2
fi

"$PY" - "$report" "$SERVICE" <<'PYEOF'
import json
import sys

report, service = sys.argv[1], sys.argv[2]
deps = json.load(open(report, encoding="utf-8")).get("dependencies", [])
audited = [d for d in deps if "skip_reason" not in d]
skipped = [d for d in deps if "skip_reason" in d and "editable" not in d["skip_reason"]]
vulnerable = [d for d in audited if d.get("vulns")]
for d in vulnerable:
    for v in d["vulns"]:
        fix = ", ".join(v.get("fix_versions") or []) or "no fixed release yet"
        print(f"VULNERABLE {d['name']} {d['version']}: {v['id']} (fixed in: {fix})")
        desc = (v.get("description") or "").strip().splitlines()
        if desc:
            print(f"    {desc[0][:160]}")
print(f"audit: {len(audited)} package(s) checked against {service}, {len(vulnerable)} vulnerable, "
      f"{len(skipped)} could not be checked")
if skipped:
    names = ", ".join(d["name"] for d in skipped[:10]) + (" ..." if len(skipped) > 10 else "")
    print(f"audit: not checked: {names}", file=sys.stderr)
if vulnerable:
    sys.exit(1)
if not audited:
    print(f"audit: no installed package could be checked: the vulnerability database ({service}) "
          "is unreachable from here or does not know these releases", file=sys.stderr)
    sys.exit(3)
PYEOF
