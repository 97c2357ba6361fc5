#!/usr/bin/env python3
"""bsread.py - an independent reader of backstop snapshots, written from
docs/format.md alone (not from backstop's C code): the proof that the page
is precise enough to read a snapshot without backstop.

    bsread.py REPO ID [--identity FILE] [--dump-table SCHEMA.TABLE]

REPO is a local repository directory, ID a snapshot id.  It checks the
catalog record (docs/format.md, "Trusted records"), the archive as stored
against the record, decrypts it with the `age` tool when it is encrypted,
walks the tar stream (parsed here, byte by byte), checks the member order,
every SHA-256, every zstd frame (decompressed with the `zstd` tool), every
row digest, the table end members, the large objects and the manifest's
sums, and lists what the snapshot holds on stdout.

With --dump-table, the table's rows are written to stdout in COPY text
format, its chunks in seq order, once everything has been verified (the
listing then goes to stderr).  Nothing is written if anything is wrong.

Exit status: 0 everything matches; 1 the snapshot is damaged or does not
match its record (every problem found is printed, one per line, on
stderr); 2 usage error or the archive cannot be read at all.

Standard library only, plus the `zstd` and `age` command-line tools.
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import tempfile

PROG = "bsread"
KNOWN_FORMAT_VERSIONS = (1, 2, 3)
KNOWN_RECORD_VERSIONS = (1, 2)
RECORD_MAX = 1 << 20
META_MAX = 128 << 20
END_MEMBER_MAX = 4096
CHUNK_MAX = 512 << 20
U32 = 2**32 - 1
U53 = 2**53 - 1
U63 = 2**63 - 1
ZERO_DIGEST = "0" * 32


class Fatal(Exception):
    """The archive cannot be read on: stop and report."""


class Usage(Exception):
    pass


# ------------------------------------------------------------------ findings

findings = []


def finding(msg):
    findings.append(msg)


# ------------------------------------------------------------------ JSON


def _no_dups(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError("repeats the key '%s'" % k)
        seen[k] = v
    return seen


def _no_constant(name):
    raise ValueError("holds %s, which is not JSON" % name)


def load_json(data, what):
    """One JSON object, UTF-8, no repeated keys (docs/format.md, Conventions)."""
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=_no_dups,
                         parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise Fatal("%s is not valid JSON: %s" % (what, e))
    if not isinstance(obj, dict):
        raise Fatal("%s is not a JSON object" % what)
    return obj


def is_int(v, lo=0, hi=U63):
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def is_str(v, lo=0, hi=None):
    if not isinstance(v, str) or "\x00" in v:
        return False
    n = len(v.encode("utf-8", "surrogatepass"))
    return n >= lo and (hi is None or n <= hi)


HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SNAP_ID = re.compile(r"^(\d{8}T\d{6}Z)-[0-9a-fA-F]{6}$")
RECIPIENT = re.compile(r"^age1[a-z0-9]+$")


def parse_time(s):
    if not isinstance(s, str) or not TIME.match(s):
        return None
    try:
        t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


class Checker:
    """Field checks of one JSON object: each failure is one message."""

    def __init__(self, obj, what):
        self.o = obj
        self.what = what

    def get(self, key, test, want, required=True):
        if key not in self.o:
            if required:
                raise Fatal("%s: field '%s' is missing" % (self.what, key))
            return None
        v = self.o[key]
        if not test(v):
            raise Fatal("%s: field '%s' %s" % (self.what, key, want))
        return v

    def int(self, key, hi=U63, required=True):
        return self.get(key, lambda v: is_int(v, 0, hi), "must be an integer from 0 to %d" % hi, required)

    def str(self, key, required=True):
        return self.get(key, is_str, "must be a string without NUL", required)

    def hex32(self, key):
        return self.get(key, lambda v: isinstance(v, str) and HEX32.match(v), "must be 32 lowercase hex digits")

    def array(self, key, required=True):
        return self.get(key, lambda v: isinstance(v, list), "must be an array", required)

    def obj(self, key, required=True):
        return self.get(key, lambda v: isinstance(v, dict), "must be an object", required)

    def bool(self, key):
        return self.get(key, lambda v: isinstance(v, bool), "must be true or false")


def sized_digest(v, what):
    c = Checker(v, what) if isinstance(v, dict) else None
    if c is None:
        raise Fatal("%s must be an object" % what)
    n = c.int("bytes")
    h = c.get("sha256", lambda x: isinstance(x, str) and HEX64.match(x), "must be 64 lowercase hex digits")
    return n, h


# ------------------------------------------------------------------ the record


def read_record(repo, snap_id):
    """snapshots/<id>.json, checked as docs/format.md "Trusted records" says."""
    key = "snapshots/%s.json" % snap_id
    path = os.path.join(repo, key)
    m = SNAP_ID.match(snap_id)
    if not m:
        raise Usage("'%s' is not a snapshot id (YYYYMMDDTHHMMSSZ-xxxxxx)" % snap_id)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise Usage("no snapshot %s in '%s' (no %s)" % (snap_id, repo, key))
    except OSError as e:
        raise Fatal("catalog record '%s': %s" % (key, e.strerror))
    if not stat.S_ISREG(st.st_mode):
        raise Fatal("catalog record '%s' is not a regular file (not trusted)" % key)
    if st.st_size > RECORD_MAX:
        raise Fatal("catalog record '%s' is larger than 1 MiB (not trusted)" % key)
    with open(path, "rb") as f:
        rec = load_json(f.read(RECORD_MAX + 1), "catalog record '%s'" % key)
    what = "catalog record '%s' (not trusted)" % key
    c = Checker(rec, what)

    def bad(why):
        raise Fatal("%s: %s" % (what, why))

    if rec.get("format") != "backstop-snapshot-record":
        bad("'format' is not \"backstop-snapshot-record\"")
    version = c.get("version", lambda v: is_int(v, 0, U63) and v in KNOWN_RECORD_VERSIONS,
                    "is not a record version this reader knows (1 or 2)")
    if rec.get("id") != snap_id:
        bad("its id %r is not its file name's '%s'" % (rec.get("id"), snap_id))
    if not is_str(rec.get("database"), 1, 63):
        bad("'database' must be a string of 1 to 63 bytes")
    if not is_str(rec.get("server_version"), 1, 64):
        bad("'server_version' must be a string of 1 to 64 bytes")
    if "tool_version" in rec and not is_str(rec["tool_version"], 1, 64):
        bad("'tool_version' must be a string of 1 to 64 bytes")
    start, end = parse_time(rec.get("start")), parse_time(rec.get("end"))
    floor = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
    if start is None or end is None or start < floor or end < floor:
        bad("'start' and 'end' must be times like 2026-11-23T02:15:00Z, not before 2000")
    try:
        id_time = datetime.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        raise Usage("'%s' is not a snapshot id (its time does not exist)" % snap_id)
    if not (id_time - 3600 <= start <= id_time + 86400):
        bad("'start' is not between an hour before and a day after the time in the id")
    if end + 3600 < start:
        bad("'end' is more than an hour before 'start'")
    for k in ("duration_ms", "bytes"):
        c.int(k, U53)
    for k in ("tables", "chunks"):
        c.int(k, U32)
    if rec.get("status") != "complete":
        bad("'status' is not \"complete\"")
    c.bool("encrypted")
    c.bool("passphrase")
    rcp = c.array("recipients")
    if len(rcp) > 256 or not all(isinstance(r, str) and RECIPIENT.match(r) for r in rcp):
        bad("'recipients' must be at most 256 age1... public keys")
    want = "archives/%s.tar%s" % (snap_id, ".age" if rec["encrypted"] else "")
    if rec.get("archive") != want:
        bad("'archive' is %r, not '%s'" % (rec.get("archive"), want))
    if version >= 2:
        for k in ("archive_sha256", "header_sha256", "schema_sha256", "manifest_sha256"):
            c.get(k, lambda v: isinstance(v, str) and HEX64.match(v), "must be 64 lowercase hex digits")
    return rec


# ------------------------------------------------------------------ the stored archive


def stored_digest(path):
    h, n = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return n, h.hexdigest()
            h.update(b)
            n += len(b)


# ------------------------------------------------------------------ tar (docs/format.md, "Tar layer")


class Tar:
    """A ustar stream with pax extended headers, read block by block."""

    def __init__(self, f):
        self.f = f
        self.pos = 0

    def read(self, n):
        out = bytearray()
        while len(out) < n:
            b = self.f.read(n - len(out))
            if not b:
                break
            out += b
        self.pos += len(out)
        return bytes(out)

    def exact(self, n, what):
        b = self.read(n)
        if len(b) != n:
            raise Fatal("the archive is truncated in %s" % what)
        return b

    @staticmethod
    def number(field, what):
        if field and field[0] & 0x80:  # base-256
            v = field[0] & 0x7F
            for c in field[1:]:
                v = (v << 8) | c
            return v
        s = field.replace(b"\0", b" ").strip()
        if not s:
            return 0
        if not re.match(rb"^[0-7]+$", s):
            raise Fatal("tar header of %s: a numeric field is not octal" % what)
        return int(s, 8)

    @staticmethod
    def text(field):
        return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")

    def next(self, after):
        """(name, size, uname) of the next regular member, or None at the
        end of the archive (two zero blocks; later bytes are checked by
        finish()).  Other entry types are reported and skipped."""
        pax = {}
        while True:
            where = "the header after %s" % after
            blk = self.read(512)
            if len(blk) == 0:
                raise Fatal("the archive is truncated after member '%s' (no end-of-archive blocks)" % after)
            if len(blk) != 512:
                raise Fatal("the archive is truncated in %s" % where)
            if blk == bytes(512):
                second = self.read(512)
                if len(second) != 512:
                    raise Fatal("the archive is truncated after member '%s' (one end block of two)" % after)
                if second != bytes(512):
                    raise Fatal("a zero block after member '%s' is followed by data, not by the second end block"
                                % after)
                return None
            chk = Tar.number(blk[148:156], where)
            if chk != sum(blk[:148]) + 32 * 8 + sum(blk[156:]):
                raise Fatal("tar header checksum mismatch in %s (offset %d)" % (where, self.pos - 512))
            if blk[257:262] != b"ustar":
                raise Fatal("%s is not a ustar header" % where)
            name = Tar.text(blk[0:100])
            prefix = Tar.text(blk[345:500])
            if prefix:
                name = prefix + "/" + name
            size = Tar.number(blk[124:136], name)
            uname = Tar.text(blk[265:297])
            tflag = blk[156:157]
            data_blocks = (size + 511) // 512 * 512
            if tflag == b"x":
                data = self.exact(data_blocks, "pax header '%s'" % name)[:size]
                pax = Tar.parse_pax(data, name)
                continue
            if "path" in pax:
                name = pax["path"]
            if "size" in pax:
                if not re.match(r"^\d+$", pax["size"]):
                    raise Fatal("pax header of '%s': size is not a number" % name)
                size = int(pax["size"])
            if "uname" in pax:
                uname = pax["uname"]
            if tflag not in (b"0", b"\0"):
                finding("unexpected member '%s': tar entry type %r, not a regular file" % (name, tflag.decode()))
                self.exact((size + 511) // 512 * 512, name)
                pax = {}
                continue
            return name, size, uname

    @staticmethod
    def parse_pax(data, what):
        out, i = {}, 0
        while i < len(data):
            sp = data.find(b" ", i)
            if sp < 0:
                raise Fatal("pax header '%s' is malformed" % what)
            try:
                n = int(data[i:sp])
            except ValueError:
                raise Fatal("pax header '%s' is malformed" % what)
            rec = data[i:i + n]
            if n <= 0 or len(rec) != n or not rec.endswith(b"\n") or b"=" not in rec:
                raise Fatal("pax header '%s' is malformed" % what)
            k, v = rec[sp - i + 1:-1].split(b"=", 1)
            out[k.decode("utf-8", "surrogateescape")] = v.decode("utf-8", "surrogateescape")
            i += n
        return out

    def data(self, size, name):
        """The whole member (and its padding)."""
        b = self.exact(size, "member '%s'" % name)
        self.exact((-size) % 512, "the padding of member '%s'" % name)
        return b

    def data_hashed(self, size, name, head=0):
        """SHA-256 of a member read in pieces; also its first `head` bytes."""
        h, left, first = hashlib.sha256(), size, b""
        while left:
            b = self.exact(min(left, 1 << 20), "member '%s'" % name)
            if len(first) < head:
                first += b[:head - len(first)]
            h.update(b)
            left -= len(b)
        self.exact((-size) % 512, "the padding of member '%s'" % name)
        return h.hexdigest(), first

    def finish(self):
        """After the two end blocks: nothing but zero bytes."""
        extra = 0
        while True:
            b = self.read(1 << 16)
            if not b:
                return
            if b.strip(b"\0"):
                finding("%d bytes after the end-of-archive blocks are not all zero: data was appended"
                        % (extra + len(b)))
                # read to the end all the same (a decryption layer authenticates it)
                while self.read(1 << 16):
                    pass
                return
            extra += len(b)


# ------------------------------------------------------------------ zstd (docs/format.md, "Data chunks")


def zstd_frame(z, what):
    """Check that z is exactly one zstd frame with a content checksum and a
    content size (walking its blocks); returns the content size."""
    if len(z) < 6 or z[:4] != b"\x28\xb5\x2f\xfd":
        raise ValueError("not a zstd frame")
    fhd = z[4]
    fcs_flag, single, checksum, dict_flag = fhd >> 6, (fhd >> 5) & 1, (fhd >> 2) & 1, fhd & 3
    if (fhd >> 3) & 1:
        raise ValueError("reserved bit set in the frame header")
    if not checksum:
        raise ValueError("the frame has no content checksum")
    i = 5 + (0 if single else 1)
    dict_size = (0, 1, 2, 4)[dict_flag]
    if dict_size and int.from_bytes(z[i:i + dict_size], "little") != 0:
        raise ValueError("the frame needs a dictionary")
    i += dict_size
    fcs_size = (1 if single else 0, 2, 4, 8)[fcs_flag]
    if fcs_size == 0:
        raise ValueError("the frame header has no content size")
    if len(z) < i + fcs_size:
        raise ValueError("truncated frame header")
    fcs = int.from_bytes(z[i:i + fcs_size], "little") + (256 if fcs_size == 2 else 0)
    i += fcs_size
    while True:
        if len(z) < i + 3:
            raise ValueError("truncated frame")
        h = int.from_bytes(z[i:i + 3], "little")
        i += 3
        last, btype, bsize = h & 1, (h >> 1) & 3, h >> 3
        if btype == 3:
            raise ValueError("reserved block type")
        i += 1 if btype == 1 else bsize
        if last:
            break
    i += 4
    if i > len(z):
        raise ValueError("truncated frame")
    if i != len(z):
        raise ValueError("%d bytes after the frame" % (len(z) - i))
    return fcs


def unzstd(z, what):
    """The content of one member: frame checked, checksum verified by zstd,
    size checked against the frame's content size.  None (and a finding)
    when it is damaged."""
    try:
        fcs = zstd_frame(z, what)
    except ValueError as e:
        finding("%s: corrupt chunk: %s" % (what, e))
        return None
    p = subprocess.run(["zstd", "-d", "-c", "-q"], input=z, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        msg = p.stderr.decode("utf-8", "replace").strip().splitlines()
        finding("%s: corrupt chunk: zstd: %s" % (what, msg[-1] if msg else "failed"))
        return None
    if len(p.stdout) != fcs:
        finding("%s: corrupt chunk: %d bytes decompressed, the frame says %d" % (what, len(p.stdout), fcs))
        return None
    return p.stdout


# ------------------------------------------------------------------ digests (docs/format.md, "Row digest")


def add128(a, b):
    return (a + b) % (1 << 128)


def hash128(data):
    return int.from_bytes(hashlib.sha256(data).digest()[:16], "little")


def row_digest(payload):
    """(rows, digest) of a COPY text payload: one row per LF-ended line, a
    final line without LF counts too."""
    total, rows = 0, 0
    lines = payload.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line in lines:
        total = add128(total, hash128(line))
        rows += 1
    return rows, total


def hex128(v):
    return "%032x" % v


# ------------------------------------------------------------------ member names

NUM = r"(\d{1,10})"
CHUNK_RE = re.compile(r"^data/" + NUM + "/" + NUM + r"\.copy\.zst$")
END_RE = re.compile(r"^data/" + NUM + r"/end\.json$")
BLOB_RE = re.compile(r"^blobs/" + NUM + "/" + NUM + r"\.zst$")


def num(s):
    v = int(s)
    return v if v <= U32 else None


# ------------------------------------------------------------------ the archive


class Snapshot:
    def __init__(self, rec, dump_table, tmpdir):
        self.rec = rec
        self.v2 = rec["version"] >= 2
        self.header = None
        self.version = None
        self.tables = {}          # no -> header table
        self.members = []         # (name, size, kind)
        self.chunks = {}          # (no, seq) -> (rows, digest, zbytes, raw) or None when damaged
        self.ends = {}            # no -> claimed chunks
        self.seen_chunks = {}     # no -> chunk members before its end member
        self.blobs = []           # [oid, bytes, chunks, hash]
        self.blob_total = 0
        self.acl = None           # (bytes, sha256)
        self.schema = None
        self.manifest = None
        self.dump_table = dump_table
        self.dump_no = None
        self.dump_files = {}      # seq -> temp file
        self.tmpdir = tmpdir
        self.names = set()

    # -- members

    def member(self, name, size, kind):
        self.members.append((name, size, kind))

    def read_header(self, tar):
        m = tar.next("(start)")
        if m is None:
            raise Fatal("not a backstop archive: it has no members")
        name, size, _ = m
        if name != "backstop.json":
            raise Fatal("not a backstop archive: the first member is '%s', not backstop.json" % name)
        if size > META_MAX:
            raise Fatal("backstop.json is too large (%d bytes)" % size)
        data = tar.data(size, name)
        self.member(name, size, "header")
        self.names.add(name)
        sha = hashlib.sha256(data).hexdigest()
        self.header_digest = (size, sha)
        if self.v2 and sha != self.rec["header_sha256"]:
            # whose is it?  the common case is another snapshot's archive
            try:
                other = json.loads(data).get("id")
            except Exception:
                other = None
            if isinstance(other, str) and other != self.rec["id"]:
                raise Fatal("the archive is not the one of snapshot %s: it holds snapshot %s"
                            % (self.rec["id"], other))
            raise Fatal("backstop.json does not match header_sha256 of the catalog record")
        h = load_json(data, "backstop.json")
        c = Checker(h, "backstop.json")
        if h.get("format") != "backstop-snapshot":
            raise Fatal("backstop.json: 'format' is not \"backstop-snapshot\": not a backstop archive")
        self.version = c.get("version", lambda v: is_int(v, 0, U63), "must be an integer")
        if self.version not in KNOWN_FORMAT_VERSIONS:
            raise Fatal("unsupported backstop.json version %d (this reader reads versions 1 to 3)" % self.version)
        for k in ("id", "database", "encoding", "server_version", "start"):
            c.str(k)
        c.int("server_version_num", 2**31 - 1)
        if "globals" in h:
            self.globals = sized_digest(h["globals"], "backstop.json: 'globals'")
        else:
            if self.version >= 2:
                finding("backstop.json of format version %d has no 'globals'" % self.version)
            self.globals = None
        if "unpopulated_matviews" in h:
            for i, r in enumerate(c.array("unpopulated_matviews")):
                if not (isinstance(r, dict) and is_str(r.get("schema")) and is_str(r.get("name"))):
                    raise Fatal("backstop.json: unpopulated_matviews[%d] needs a schema and a name" % i)
        for i, t in enumerate(c.array("tables")):
            if not isinstance(t, dict):
                raise Fatal("backstop.json: tables[%d] is not an object" % i)
            tc = Checker(t, "backstop.json: tables[%d]" % i)
            no = tc.int("no", U32)
            if no == 0:
                raise Fatal("backstop.json: tables[%d].no must be 1 or more" % i)
            if no in self.tables:
                raise Fatal("backstop.json: tables[%d] repeats table number %d" % (i, no))
            tc.str("schema")
            tc.str("name")
            cols = tc.array("columns")
            if not all(is_str(x) for x in cols):
                raise Fatal("backstop.json: tables[%d].columns must be strings" % i)
            if "extension" in t:
                tc.str("extension")
                tc.str("filter")
            self.tables[no] = t
        self.header = h
        # binding, step 1
        if h["id"] != self.rec["id"]:
            raise Fatal("the archive is not the one of snapshot %s: it holds snapshot %s" % (self.rec["id"], h["id"]))
        if h["database"] != self.rec["database"]:
            finding("the archive holds database '%s', the catalog record says '%s'"
                    % (h["database"], self.rec["database"]))
        if len(self.tables) != self.rec["tables"]:
            finding("the archive holds %d tables, the catalog record says %d" % (len(self.tables), self.rec["tables"]))
        if self.dump_table is not None:
            hits = [no for no, t in self.tables.items() if "%s.%s" % (t["schema"], t["name"]) == self.dump_table]
            if not hits:
                raise Usage("table '%s' is not in snapshot %s" % (self.dump_table, self.rec["id"]))
            self.dump_no = hits[0]

    def walk(self, tar):
        """Every member after the header, in the grammar's order."""
        state = "pre"     # after backstop.json: globals.json or schema.dump
        last = "backstop.json"
        while True:
            m = tar.next(last)
            if m is None:
                raise Fatal("the archive ends without %s" % ("schema.dump" if state == "pre" else "manifest.json"))
            name, size, uname = m
            last = name
            if name in self.names:
                finding("member '%s' appears twice" % name)
                tar.data_hashed(size, name)
                continue
            self.names.add(name)
            if state == "pre" and name == "globals.json":
                self.member(name, size, "globals")
                if size > META_MAX:
                    raise Fatal("globals.json is too large")
                data = tar.data(size, name)
                if self.globals is None:
                    finding("unexpected member 'globals.json': backstop.json does not announce it")
                elif (len(data), hashlib.sha256(data).hexdigest()) != self.globals:
                    finding("globals.json does not match its size and SHA-256 in backstop.json")
                else:
                    g = load_json(data, "globals.json")
                    if g.get("format") != "backstop-globals" or g.get("version") != 1:
                        finding("globals.json is not a backstop-globals document of version 1")
                continue
            if state == "pre":
                state = "body"
                if self.globals is not None and "globals.json" not in self.names:
                    finding("member 'globals.json' is missing (backstop.json announces it)")
                if name != "schema.dump":
                    finding("unexpected member '%s' where schema.dump was expected" % name)
                else:
                    sha, head = tar.data_hashed(size, name, 5)
                    self.member(name, size, "schema")
                    self.schema = (size, sha)
                    if head != b"PGDMP":
                        finding("schema.dump is not a pg_dump custom-format archive")
                    if self.v2 and sha != self.rec["schema_sha256"]:
                        finding("schema.dump does not match schema_sha256 of the catalog record")
                    continue
            if name == "manifest.json":
                self.member(name, size, "manifest")
                if size > META_MAX:
                    raise Fatal("manifest.json is too large")
                data = tar.data(size, name)
                if self.v2 and hashlib.sha256(data).hexdigest() != self.rec["manifest_sha256"]:
                    finding("manifest.json does not match manifest_sha256 of the catalog record")
                self.manifest = load_json(data, "manifest.json")
                # nothing but the end may follow
                while True:
                    m = tar.next("manifest.json")
                    if m is None:
                        break
                    finding("unexpected member '%s' after manifest.json" % m[0])
                    tar.data_hashed(m[1], m[0])
                tar.finish()
                return
            if self.body_member(tar, name, size, uname) is None:
                finding("unexpected member '%s': not part of a backstop archive" % name)
                tar.data_hashed(size, name)

    def body_member(self, tar, name, size, uname):
        m = CHUNK_RE.match(name)
        if m and num(m.group(1)) is not None and num(m.group(2)) is not None:
            no, seq = num(m.group(1)), num(m.group(2))
            self.member(name, size, "chunk")
            if no not in self.tables:
                finding("unexpected member '%s': table %d is not in backstop.json" % (name, no))
                tar.data_hashed(size, name)
                return True
            if no in self.ends:
                finding("chunk '%s' comes after its table's end member" % name)
            self.seen_chunks[no] = self.seen_chunks.get(no, 0) + 1
            if (no, seq) in self.chunks:
                finding("chunk %d of table %d appears twice" % (seq, no))
            if size > CHUNK_MAX:
                finding("member '%s' is too large for a chunk" % name)
                tar.data_hashed(size, name)
                return True
            z = tar.data(size, name)
            payload = unzstd(z, name)
            if payload is None:
                self.chunks[(no, seq)] = None
                return True
            rows, dg = row_digest(payload)
            self.chunks[(no, seq)] = (rows, dg, size, len(payload))
            if no == self.dump_no:
                path = os.path.join(self.tmpdir, "%d.copy" % seq)
                with open(path, "wb") as f:
                    f.write(payload)
                self.dump_files[seq] = path
            return True
        m = END_RE.match(name)
        if m and num(m.group(1)) is not None:
            no = num(m.group(1))
            self.member(name, size, "table end")
            if size > END_MEMBER_MAX:
                finding("member '%s' is too large" % name)
                tar.data_hashed(size, name)
                return True
            data = tar.data(size, name)
            if no not in self.tables:
                finding("unexpected member '%s': table %d is not in backstop.json" % (name, no))
                return True
            try:
                n = Checker(load_json(data, name), name).int("chunks", U32)
            except Fatal as e:
                finding(str(e))
                return True
            if no in self.ends:
                finding("table %d has a second end member '%s'" % (no, name))
            self.ends[no] = n
            if n != self.seen_chunks.get(no, 0):
                finding("%s says %d chunks, the archive holds %d of table %s.%s before it"
                        % (name, n, self.seen_chunks.get(no, 0), self.tables[no]["schema"], self.tables[no]["name"]))
            return True
        m = BLOB_RE.match(name)
        if m and num(m.group(1)) is not None and num(m.group(2)) is not None:
            oid, seq = num(m.group(1)), num(m.group(2))
            self.member(name, size, "large object, owner %s" % (uname or "?"))
            if size <= CHUNK_MAX:
                data = tar.data(size, name)
            else:
                finding("member '%s' is too large for a chunk" % name)
                tar.data_hashed(size, name)
                data = None
            cur = self.blobs[-1] if self.blobs else None
            if seq == 0:
                if any(b[0] == oid for b in self.blobs):
                    finding("large object %d appears twice" % oid)
                h = hashlib.sha256(b"%d:" % oid)
                cur = [oid, 0, 0, h]
                self.blobs.append(cur)
            elif cur is None or cur[0] != oid or seq != cur[2]:
                finding("%s: chunks of a large object must be consecutive from seq 0" % name)
                return True
            cur[2] += 1
            payload = unzstd(data, name) if data is not None else None
            if payload is not None:
                cur[1] += len(payload)
                cur[3].update(payload)
            return True
        if name == "blobs/acl.sql":
            self.member(name, size, "large-object grants")
            self.acl = (size, tar.data_hashed(size, name)[0])
            return True
        return None

    # -- the manifest

    def check_manifest(self):
        mf = self.manifest
        c = Checker(mf, "manifest.json")
        if mf.get("format") != "backstop-manifest":
            raise Fatal("manifest.json: 'format' is not \"backstop-manifest\"")
        v = c.get("version", lambda x: is_int(x, 0, U63), "must be an integer")
        if v not in KNOWN_FORMAT_VERSIONS:
            raise Fatal("unsupported manifest.json version %d" % v)
        if c.str("id") != self.header["id"]:
            finding("manifest.json: its id differs from backstop.json's")
        c.str("end")
        seen, trows, tbytes, tchunks = set(), 0, 0, 0
        self.mtables = {}
        for i, t in enumerate(c.array("tables")):
            if not isinstance(t, dict):
                raise Fatal("manifest.json: tables[%d] is not an object" % i)
            tc = Checker(t, "manifest.json: tables[%d]" % i)
            no = tc.int("no", U32)
            if no not in self.tables:
                finding("manifest.json: table number %d is not in backstop.json" % no)
                continue
            if no in seen:
                finding("manifest.json: table number %d is listed twice" % no)
                continue
            seen.add(no)
            h = self.tables[no]
            if tc.str("schema") != h["schema"] or tc.str("name") != h["name"]:
                finding("manifest.json: table %d is %s.%s, backstop.json says %s.%s"
                        % (no, t["schema"], t["name"], h["schema"], h["name"]))
            rows, dg, nbytes = tc.int("rows"), int(tc.hex32("digest"), 16), tc.int("bytes")
            srows, sdg, sbytes, seqs = 0, 0, 0, {}
            for j, ch in enumerate(tc.array("chunks")):
                if not isinstance(ch, dict):
                    raise Fatal("manifest.json: tables[%d].chunks[%d] is not an object" % (i, j))
                cc = Checker(ch, "manifest.json: tables[%d].chunks[%d]" % (i, j))
                seq = cc.int("seq", U32)
                e = (cc.int("rows"), int(cc.hex32("digest"), 16), cc.int("zbytes"), cc.int("bytes", required=False))
                if seq in seqs:
                    finding("manifest.json: table %s.%s lists chunk %d twice" % (h["schema"], h["name"], seq))
                seqs[seq] = e
                srows += e[0]
                sdg = add128(sdg, e[1])
                sbytes += e[3] or 0
            if srows != rows or sdg != dg:
                finding("manifest.json: table %s.%s: chunk rows/digests do not add up to the table's"
                        % (h["schema"], h["name"]))
            if all(e[3] is not None for e in seqs.values()) and sbytes != nbytes:
                finding("manifest.json: table %s.%s: chunk bytes do not add up to the table's"
                        % (h["schema"], h["name"]))
            self.mtables[no] = (rows, dg, seqs)
            trows += rows
            tbytes += nbytes
            tchunks += len(seqs)
        for no, h in self.tables.items():
            if no not in seen:
                finding("manifest.json: table %d (%s.%s) of backstop.json is missing" % (no, h["schema"], h["name"]))
        for i, s in enumerate(c.array("sequences")):
            sc = Checker(s if isinstance(s, dict) else {}, "manifest.json: sequences[%d]" % i)
            sc.str("schema")
            sc.str("name")
            sc.get("last_value", lambda x: is_int(x, -2**63, U63), "must be an integer")
            sc.bool("is_called")
        self.nseqs = len(mf["sequences"])
        b = c.obj("blobs")
        bc = Checker(b, "manifest.json: blobs")
        count, bbytes, bdg = bc.int("count"), bc.int("bytes"), int(bc.hex32("digest"), 16)
        items = bc.array("items")
        mblobs = {}
        for i, it in enumerate(items):
            ic = Checker(it if isinstance(it, dict) else {}, "manifest.json: blobs.items[%d]" % i)
            mblobs[ic.int("oid", U32)] = (ic.int("bytes"), ic.int("chunks", U32))
        if count != len(items):
            finding("manifest.json: blobs.count does not match the number of items")
        if bbytes != sum(x[0] for x in mblobs.values()):
            finding("manifest.json: blobs.bytes does not match the sum of the items")
        inv = c.array("inventory")
        self.ninv = len(inv)
        for i, x in enumerate(inv):
            xc = Checker(x if isinstance(x, dict) else {}, "manifest.json: inventory[%d]" % i)
            xc.str("kind")
            xc.str("name")
            xc.str("def")
        if "inventory_version" in mf:
            c.int("inventory_version")
        mg = sized_digest(mf["globals"], "manifest.json: 'globals'") if "globals" in mf else None
        if mg != self.globals:
            finding("manifest.json: 'globals' differs from backstop.json's")
        tot = Checker(c.obj("totals"), "manifest.json: totals")
        for k, want in (("rows", trows), ("bytes", tbytes), ("chunks", tchunks)):
            if tot.int(k) != want:
                finding("manifest.json: totals.%s does not match the sum of the tables" % k)
        # binding, step 5
        if tchunks != self.rec["chunks"]:
            finding("the archive lists %d chunks, the catalog record says %d" % (tchunks, self.rec["chunks"]))
        members = c.obj("members", required=False)
        if members is not None:
            got = {"backstop.json": self.header_digest, "schema.dump": self.schema, "blobs/acl.sql": self.acl}
            for n in ("backstop.json", "schema.dump", "blobs/acl.sql"):
                if n not in members:
                    if n == "blobs/acl.sql" and self.acl is not None:
                        finding("unexpected member 'blobs/acl.sql': manifest.json does not list it")
                    continue
                want = sized_digest(members[n], "manifest.json: members.%s" % n)
                if got[n] is None:
                    finding("member '%s' is missing: manifest.json lists it" % n)
                elif want != got[n]:
                    finding("member '%s' does not match its digest in manifest.json" % n)
        # the archive against the manifest
        for (no, seq), got in sorted(self.chunks.items()):
            if no not in self.mtables:
                continue
            name = "data/%06d/%06d.copy.zst" % (no, seq)
            want = self.mtables[no][2].get(seq)
            if want is None:
                finding("extra member '%s': manifest.json lists no chunk %d of that table" % (name, seq))
                continue
            if got is None:
                continue  # damaged: already reported
            if got[0] != want[0]:
                finding("%s holds %d rows, manifest.json says %d" % (name, got[0], want[0]))
            if got[1] != want[1]:
                finding("%s: row digest %s, manifest.json says %s" % (name, hex128(got[1]), hex128(want[1])))
            if got[2] != want[2]:
                finding("%s is %d bytes, manifest.json says zbytes %d" % (name, got[2], want[2]))
            if want[3] is not None and got[3] != want[3]:
                finding("%s holds %d bytes of COPY text, manifest.json says %d" % (name, got[3], want[3]))
        for no, (rows, dg, seqs) in self.mtables.items():
            h = self.tables[no]
            for seq in sorted(seqs):
                if (no, seq) not in self.chunks:
                    finding("chunk data/%06d/%06d.copy.zst of table %s.%s is missing from the archive"
                            % (no, seq, h["schema"], h["name"]))
            if self.ends:
                if no not in self.ends:
                    finding("table %s.%s: its end member data/%06d/end.json is missing" % (h["schema"], h["name"], no))
                elif self.ends[no] != len(seqs):
                    finding("table %s.%s: data/%06d/end.json says %d chunks, manifest.json lists %d"
                            % (h["schema"], h["name"], no, self.ends[no], len(seqs)))
        got = {b[0]: b for b in self.blobs}
        for oid in sorted(set(got) | set(mblobs)):
            if oid not in mblobs:
                finding("large object %d is not in manifest.json" % oid)
            elif oid not in got:
                finding("large object %d is missing from the archive" % oid)
            elif (got[oid][1], got[oid][2]) != mblobs[oid]:
                finding("large object %d: %d bytes in %d chunks, manifest.json says %d in %d"
                        % (oid, got[oid][1], got[oid][2], mblobs[oid][0], mblobs[oid][1]))
        total = 0
        for b in self.blobs:
            total = add128(total, int.from_bytes(b[3].digest()[:16], "little"))
        if total != bdg:
            finding("the digest of the large objects is %s, manifest.json says %s" % (hex128(total), hex128(bdg)))
        self.nblobs = len(self.blobs)


# ------------------------------------------------------------------ main


def open_plaintext(path, rec, identity):
    if not rec["encrypted"]:
        return open(path, "rb"), None
    if not identity:
        raise Usage("snapshot %s is encrypted: give its age identity with --identity FILE" % rec["id"])
    p = subprocess.Popen(["age", "-d", "-i", identity, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.stdout, p


def run(args, out):
    rec = read_record(args.repo, args.id)
    path = os.path.join(args.repo, rec["archive"])
    try:
        st = os.lstat(path)
    except OSError as e:
        raise Fatal("archive '%s': %s" % (rec["archive"], e.strerror))
    if not stat.S_ISREG(st.st_mode):
        raise Fatal("archive '%s' is not a regular file" % rec["archive"])
    # binding, step 6 (the archive as stored; needs no key)
    nbytes, sha = stored_digest(path)
    if nbytes != rec["bytes"]:
        finding("archive '%s' is %d bytes, the catalog record says %d" % (rec["archive"], nbytes, rec["bytes"]))
    if rec["version"] >= 2 and sha != rec["archive_sha256"]:
        finding("archive '%s' does not match archive_sha256 of the catalog record" % rec["archive"])
    f, proc = open_plaintext(path, rec, args.identity)
    with tempfile.TemporaryDirectory(prefix="bsread.") as tmp:
        snap = Snapshot(rec, args.dump_table, tmp)
        err = None
        try:
            tar = Tar(f)
            snap.read_header(tar)
            snap.walk(tar)
        except Fatal as e:
            err = e
        finally:
            if proc:
                # age authenticates through the final chunk: let it finish,
                # and when it fails, that is the cause of whatever else did
                while proc.stdout.read(1 << 20):
                    pass
                proc.wait()
                age_err = proc.stderr.read().decode("utf-8", "replace").strip()
                if proc.returncode != 0:
                    raise Fatal("decrypting '%s' failed: %s" % (rec["archive"], age_err or "age exited %d"
                                                               % proc.returncode))
            else:
                f.close()
        if err:
            raise err
        snap.check_manifest()
        listing(snap, out)
        if findings:
            return 1
        if args.dump_table is not None:
            mt = snap.mtables[snap.dump_no]
            w = sys.stdout.buffer
            for seq in sorted(mt[2]):
                with open(snap.dump_files[seq], "rb") as fh:
                    while True:
                        b = fh.read(1 << 20)
                        if not b:
                            break
                        w.write(b)
            w.flush()
    return 0


def listing(snap, out):
    h, rec = snap.header, snap.rec
    p = lambda *a: print(*a, file=out)
    p("snapshot %s: database %s (%s, PostgreSQL %s), format version %d, %s"
      % (rec["id"], h["database"], h["encoding"], h["server_version"], snap.version,
         "encrypted" if rec["encrypted"] else "not encrypted"))
    p("record: version %d, archive %s, %d bytes" % (rec["version"], rec["archive"], rec["bytes"]))
    p("members:")
    for name, size, kind in snap.members:
        p("  %-40s %12d  %s" % (name, size, kind))
    p("tables:")
    for no in sorted(snap.tables):
        t = snap.tables[no]
        mt = snap.mtables.get(no)
        rows, dg, seqs = mt if mt else (0, 0, {})
        p("  %6d %s.%s: %d rows in %d chunks, digest %s" % (no, t["schema"], t["name"], rows, len(seqs), hex128(dg)))
    p("sequences: %d, large objects: %d, schema inventory: %d entries"
      % (snap.nseqs, snap.nblobs, snap.ninv))
    if findings:
        p("result: %d problem%s" % (len(findings), "" if len(findings) == 1 else "s"))
    else:
        p("result: every digest matches (record, members, %d chunks, %d large objects)"
          % (len(snap.chunks), snap.nblobs))


def main(argv):
    ap = argparse.ArgumentParser(prog="bsread.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("repo", metavar="REPO", help="repository directory")
    ap.add_argument("id", metavar="ID", help="snapshot id")
    ap.add_argument("--identity", metavar="FILE", help="age identity file (encrypted snapshots)")
    ap.add_argument("--dump-table", metavar="SCHEMA.TABLE", help="write this table's rows (COPY text) to stdout")
    args = ap.parse_args(argv)
    out = sys.stderr if args.dump_table is not None else sys.stdout
    try:
        rc = run(args, out)
    except Usage as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 2
    except Fatal as e:
        for f in findings:
            print("%s: error: %s" % (PROG, f), file=sys.stderr)
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    except OSError as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 2
    for f in findings:
        print("%s: error: %s" % (PROG, f), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
