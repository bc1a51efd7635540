# listjson.py - reading `hmilock list --json` back into bytes: shared by the
# CLI tests (through cli_fixture.sh's PY_LIB) and the init benchmark.
import hashlib
import json


def unesc(s):
    """The CLI's escaped path form (\\n \\t \\\\ \\xHH) back to bytes."""
    b, out, i = s.encode("utf-8"), bytearray(), 0
    while i < len(b):
        if b[i] != 0x5c:
            out.append(b[i]); i += 1; continue
        c = chr(b[i + 1])
        if c == "x":
            out.append(int(b[i + 2:i + 4], 16)); i += 4
        else:
            out += {"n": b"\n", "t": b"\t", "\\": b"\\"}[c]; i += 2
    return bytes(out)


def path_of(e, key="path"):
    return unesc(e[key]) if e.get(key + "_escaped") else e[key].encode("utf-8", "surrogateescape")


def entries(f):
    return [(path_of(e), e) for e in json.load(open(f))]


def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
