#!/bin/sh
# Prints the command of the newest Python >= 3.12 on this machine (Django 6 needs 3.12+).
# pyenv shims answer for every version but only run the selected one, so each
# candidate is actually executed, and pyenv's installed versions are tried too.
ok() { "$@" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
for candidate in python3.14 python3.13 python3.12; do
    if ok "$candidate"; then command -v "$candidate"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
    for dir in $(ls -d "$(pyenv root)"/versions/3.1[2-9]* 2>/dev/null | sort -rV); do
        if ok "$dir/bin/python3"; then echo "$dir/bin/python3"; exit 0; fi
    done
fi
if ok python3; then command -v python3; exit 0; fi
echo "No Python 3.12 or newer found: install one, or run make with PYTHON=/path/to/python3" >&2
exit 1
